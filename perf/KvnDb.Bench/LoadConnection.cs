using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using HdrHistogram;

namespace KvnDb.Bench;

/// <summary>
/// One connection of the generator, redis-benchmark style: write a batch of requests in one send,
/// read until every reply of the batch is in (the wire's reply loop over a pipe), time each reply
/// from the start of its batch. Requests are encoded straight into the output pipe and buffers are
/// reused, so a run allocates nothing per request (the generator must not be what is measured).
/// </summary>
internal sealed class LoadConnection : IAsyncDisposable
{
    private const int KeyDigits = 12;
    private static readonly StandardFormat KeyFormat = new('D', KeyDigits);

    private readonly IAsyncDisposable _owner;
    private readonly PipeWriter _output;
    private readonly WireProtocol _wire;
    private readonly long _keyspace;
    private readonly byte[] _key = "key:000000000000"u8.ToArray();
    private readonly byte[] _value;
    private readonly Random _random;
    private ulong _nextRequestId;

    /// <param name="pipe">The connection's bytes (<see cref="LoadTransport"/>).</param>
    /// <param name="owner">Closes the connection.</param>
    /// <param name="wire">The protocol spoken.</param>
    /// <param name="keyspace">Keys are drawn from [0, keyspace); 0: one fixed key.</param>
    /// <param name="valueSize">Bytes of each SET's value.</param>
    /// <param name="seed">Of the key sequence.</param>
    public LoadConnection(IDuplexPipe pipe, IAsyncDisposable owner, WireProtocol wire, long keyspace, int valueSize, int seed)
    {
        _owner = owner;
        Input = pipe.Input;
        _output = pipe.Output;
        _wire = wire;
        _keyspace = keyspace;
        _value = new byte[valueSize];
        _value.AsSpan().Fill((byte)'x');
        _random = new Random(seed);
    }

    /// <summary>The connection's replies (the wire's loop reads them; handshakes read single frames).</summary>
    public PipeReader Input { get; }

    /// <summary>The batch in flight (the wire reports replies to it).</summary>
    public ReplyBatch Batch { get; } = new();

    public long MinTicks => Batch.MinTicks;

    public long MaxTicks => Batch.MaxTicks;

    /// <summary>Forgets the extremes of the previous test (connections are reused from test to test).</summary>
    public void ResetExtremes() => Batch.ResetExtremes();

    /// <summary>A connection on .NET's sockets over an already connected socket (the direct-node baseline accepts its node's).</summary>
    public static LoadConnection OverSocket(Socket connected, WireProtocol wire, long keyspace, int valueSize, int seed)
    {
        var pipe = new SocketPipe(connected);
        return new LoadConnection(pipe, pipe, wire, keyspace, valueSize, seed);
    }

    /// <summary>Connects (on <paramref name="transport"/>, .NET's sockets by default) and runs the wire's handshake.</summary>
    public static async Task<LoadConnection> ConnectAsync(string host, int port, WireProtocol wire, string password,
        long keyspace, int valueSize, int seed, CancellationToken cancellationToken, LoadTransport? transport = null)
    {
        var (pipe, owner) = await (transport ?? LoadTransport.Sockets).ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        var connection = new LoadConnection(pipe, owner, wire, keyspace, valueSize, seed);
        try
        {
            await wire.HandshakeAsync(connection, password, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends <paramref name="count"/> requests in one write and waits for all their replies; returns the error replies.</summary>
    /// <remarks>Pooled builders: awaiting a batch allocates nothing, even when it completes asynchronously.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> RunBatchAsync(TestKind test, int count, LongHistogram? histogram, CancellationToken cancellationToken)
    {
        EncodeBatch(test, count);
        Batch.Begin(count, histogram);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await _wire.ReceiveRepliesAsync(Input, Batch, cancellationToken).ConfigureAwait(false);
        return Batch.Errors;
    }

    private void EncodeBatch(TestKind test, int count)
    {
        var size = _wire.RequestSize(test, _key.Length, _value.Length);
        var span = _output.GetSpan(size * count);
        var offset = 0;
        for (var i = 0; i < count; i++)
        {
            if (_keyspace > 0)
                Utf8Formatter.TryFormat(_random.NextInt64(_keyspace), _key.AsSpan(_key.Length - KeyDigits), out _, KeyFormat);
            offset += _wire.WriteRequest(span[offset..], test, ++_nextRequestId, _key, _value);
        }
        _output.Advance(offset);
    }

    /// <summary>Sends <paramref name="bytes"/> (handshakes, info requests).</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        _output.Write(bytes.Span);
        return FlushAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var flush = await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (flush.IsCompleted)
            throw new BenchException("the server closed the connection");
    }

    public ValueTask DisposeAsync() => _owner.DisposeAsync();
}
