using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using HdrHistogram;

namespace KvnDb.Bench;

/// <summary>
/// One connection of the generator, redis-benchmark style: write a batch of requests in one send,
/// read until every reply of the batch is in, time each reply from the start of its batch. Buffers
/// are reused, so a run allocates nothing per request (the generator must not be what is measured).
/// </summary>
internal sealed class LoadConnection : IAsyncDisposable
{
    private const int KeyDigits = 12;
    private static readonly StandardFormat KeyFormat = new('D', KeyDigits);

    private readonly Socket _socket;
    private readonly WireProtocol _wire;
    private readonly long _keyspace;
    private readonly byte[] _key = "key:000000000000"u8.ToArray();
    private readonly byte[] _value;
    private readonly Random _random;
    private byte[] _send = new byte[4096];
    private byte[] _receive = new byte[64 * 1024];
    private int _start;
    private int _end;
    private ulong _nextRequestId;

    public LoadConnection(Socket connected, WireProtocol wire, long keyspace, int valueSize, int seed)
    {
        _socket = connected;
        _wire = wire;
        _keyspace = keyspace;
        _value = new byte[valueSize];
        _value.AsSpan().Fill((byte)'x');
        _random = new Random(seed);
    }

    public long MinTicks { get; private set; } = long.MaxValue;

    public long MaxTicks { get; private set; }

    /// <summary>Forgets the extremes of the previous test (connections are reused from test to test).</summary>
    public void ResetExtremes()
    {
        MinTicks = long.MaxValue;
        MaxTicks = 0;
    }

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
        var started = Stopwatch.GetTimestamp();
        await SendAsync(_send.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        var received = 0;
        var errors = 0;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            received += ParseReplies(count - received, now - started, histogram, ref errors);
            if (received == count)
                return errors;
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
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

    private int ParseReplies(int wanted, long elapsed, LongHistogram? histogram, ref int errors)
    {
        var parsed = 0;
        while (parsed < wanted)
        {
            var length = _wire.TryParseReply(_receive.AsSpan(_start, _end - _start), out var isError);
            if (length == 0)
                break;
            _start += length;
            parsed++;
            if (isError)
                errors++;
            histogram?.RecordValue(elapsed);
            if (elapsed < MinTicks)
                MinTicks = elapsed;
            if (elapsed > MaxTicks)
                MaxTicks = elapsed;
        }
        return parsed;
    }

    /// <summary>Reads more bytes, making room first: compact what is left, or grow when one reply fills the buffer.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
            _start = _end = 0;
        if (_end == _receive.Length)
        {
            if (_start > 0)
            {
                _receive.AsSpan(_start, _end - _start).CopyTo(_receive);
                _end -= _start;
                _start = 0;
            }
            else
            {
                Array.Resize(ref _receive, _receive.Length * 2);
            }
        }
        var read = await _socket.ReceiveAsync(_receive.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        if (read == 0)
            throw new BenchException("the server closed the connection");
        _end += read;
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

    /// <summary>Waits for one complete reply and returns a copy of it (handshakes and info only; allocates).</summary>
    public async ValueTask<byte[]> ReceiveReplyAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var length = _wire.TryParseReply(_receive.AsSpan(_start, _end - _start), out _);
            if (length > 0)
            {
                var reply = _receive.AsSpan(_start, length).ToArray();
                _start += length;
                return reply;
            }
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
