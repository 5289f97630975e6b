using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace KvnDb.IntegrationTests.Resp;

/// <summary>An error reply ("-ERR ...") as read by <see cref="RawRespClient"/>.</summary>
internal sealed record RespErrorReply(string Message);

/// <summary>A RESP3 map, as its key/value pairs in wire order.</summary>
internal sealed record RespMapReply(IReadOnlyList<KeyValuePair<object?, object?>> Entries);

/// <summary>
/// A bare RESP client over a real socket, for what real clients never send: pipelined bursts, inline
/// commands, dribbled bytes and malformed input. Replies are decoded to simple values: string (simple
/// and bulk), long, null, object?[] (arrays), <see cref="RespMapReply"/> and <see cref="RespErrorReply"/>.
/// </summary>
internal sealed class RawRespClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RawRespClient(Socket socket) => _socket = socket;

    public static async Task<RawRespClient> ConnectAsync(int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync("127.0.0.1", port).WaitAsync(TestCluster.Timeout);
        return new RawRespClient(socket);
    }

    /// <summary>A command as a multibulk array.</summary>
    public static byte[] Command(params string[] arguments)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"*{arguments.Length}\r\n");
        foreach (var argument in arguments)
            text.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(argument)}\r\n{argument}\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public Task SendAsync(string raw) => SendAsync(Encoding.UTF8.GetBytes(raw));

    public async Task SendAsync(byte[] bytes)
    {
        var sent = 0;
        while (sent < bytes.Length)
            sent += await _socket.SendAsync(bytes.AsMemory(sent)).AsTask().WaitAsync(TestCluster.Timeout);
    }

    public async Task<object?> CallAsync(params string[] arguments)
    {
        await SendAsync(Command(arguments));
        return await ReadAsync();
    }

    /// <summary>Reads one reply.</summary>
    public async Task<object?> ReadAsync()
    {
        var line = await ReadLineAsync();
        var payload = line[1..];
        switch (line[0])
        {
            case '+':
                return payload;
            case '-':
                return new RespErrorReply(payload);
            case ':':
                return long.Parse(payload, CultureInfo.InvariantCulture);
            case '_':
                return null;
            case '$':
                var length = int.Parse(payload, CultureInfo.InvariantCulture);
                if (length < 0)
                    return null;
                var bytes = await ReadExactAsync(length + 2);
                return Encoding.UTF8.GetString(bytes, 0, length);
            case '*' or '>': // a RESP3 push reads as an array
                var count = int.Parse(payload, CultureInfo.InvariantCulture);
                if (count < 0)
                    return null;
                var items = new object?[count];
                for (var i = 0; i < count; i++)
                    items[i] = await ReadAsync();
                return items;
            case '%':
                var pairs = int.Parse(payload, CultureInfo.InvariantCulture);
                var entries = new List<KeyValuePair<object?, object?>>();
                for (var i = 0; i < pairs; i++)
                    entries.Add(new(await ReadAsync(), await ReadAsync()));
                return new RespMapReply(entries);
            default:
                throw new InvalidDataException($"unexpected reply line '{line}'");
        }
    }

    /// <summary>True when the server closed the connection (after any bytes still buffered).</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        if (_start < _end)
            return false;
        try
        {
            return await _socket.ReceiveAsync(_buffer.AsMemory()).AsTask().WaitAsync(TestCluster.Timeout) == 0;
        }
        catch (SocketException)
        {
            return true; // reset: closed too
        }
    }

    private async Task<string> ReadLineAsync()
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline > _start && _buffer[newline - 1] == (byte)'\r')
            {
                var line = Encoding.UTF8.GetString(_buffer, _start, newline - 1 - _start);
                _start = newline + 1;
                return line;
            }
            await FillAsync();
        }
    }

    private async Task<byte[]> ReadExactAsync(int count)
    {
        var result = new byte[count];
        var copied = 0;
        while (copied < count)
        {
            if (_start == _end)
                await FillAsync();
            var take = Math.Min(count - copied, _end - _start);
            Array.Copy(_buffer, _start, result, copied, take);
            _start += take;
            copied += take;
        }
        return result;
    }

    private async Task FillAsync()
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
            throw new InvalidDataException("reply line longer than the test buffer");
        var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end)).AsTask().WaitAsync(TestCluster.Timeout);
        if (read == 0)
            throw new EndOfStreamException("server closed the connection");
        _end += read;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
