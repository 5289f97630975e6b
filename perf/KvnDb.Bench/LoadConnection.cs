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
/// from the start of its batch. Buffers are reused, so a run allocates nothing per request (the
/// generator must not be what is measured).
/// </summary>
internal sealed class LoadConnection : IAsyncDisposable
{
    private const int KeyDigits = 12;
    private static readonly StandardFormat KeyFormat = new('D', KeyDigits);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly WireProtocol _wire;
    private readonly long _keyspace;
    private readonly byte[] _key = "key:000000000000"u8.ToArray();
    private readonly byte[] _value;
    private readonly Random _random;
    private byte[] _send = new byte[4096];
    private ulong _nextRequestId;

    public LoadConnection(Socket connected, WireProtocol wire, long keyspace, int valueSize, int seed)
    {
        _socket = connected;
        _stream = new NetworkStream(connected, ownsSocket: false);
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
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

    public static async Task<LoadConnection> ConnectAsync(string host, int port, WireProtocol wire, string password,
        long keyspace, int valueSize, int seed, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new LoadConnection(socket, wire, keyspace, valueSize, seed);
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
        var length = EncodeBatch(test, count);
        Batch.Begin(count, histogram);
        await SendAsync(_send.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        await _wire.ReceiveRepliesAsync(Input, Batch, cancellationToken).ConfigureAwait(false);
        return Batch.Errors;
    }

    private int EncodeBatch(TestKind test, int count)
    {
        var size = _wire.RequestSize(test, _key.Length, _value.Length);
        if (_send.Length < size * count)
            _send = new byte[Math.Max(size * count, _send.Length * 2)];
        var span = _send.AsSpan();
        var offset = 0;
        for (var i = 0; i < count; i++)
        {
            if (_keyspace > 0)
                Utf8Formatter.TryFormat(_random.NextInt64(_keyspace), _key.AsSpan(_key.Length - KeyDigits), out _, KeyFormat);
            offset += _wire.WriteRequest(span[offset..], test, ++_nextRequestId, _key, _value);
        }
        return offset;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (bytes.Length > 0)
        {
            var sent = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}
