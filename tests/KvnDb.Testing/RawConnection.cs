using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Testing;

/// <summary>A bare socket speaking frames by hand, for tests that send what a well-behaved client never would.</summary>
public sealed class RawConnection : IDisposable
{
    private readonly Socket _socket = new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private PipeReader? _input;

    /// <param name="port">The router's port on loopback.</param>
    /// <param name="receiveBufferSize">The socket's receive buffer (before connecting: it sets the TCP window), to make the peer's sends block.</param>
    public static async Task<RawConnection> ConnectAsync(int port, int? receiveBufferSize = null)
    {
        var connection = new RawConnection();
        if (receiveBufferSize is { } size)
            connection._socket.ReceiveBufferSize = size;
        await connection._socket.ConnectAsync("127.0.0.1", port).WaitAsync(TestCluster.Timeout);
        connection._input = PipeReader.Create(new NetworkStream(connection._socket, ownsSocket: false));
        return connection;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes) => await _socket.SendAsync(bytes).AsTask().WaitAsync(TestCluster.Timeout);

    public Task SendHelloAsync(string password = "", ushort version = ProtocolLimits.Version, ConnectionRole role = ConnectionRole.Client) =>
        SendAsync(Hello(password, version, role));

    /// <summary>The bytes of a hello frame as a client (or a node with nothing stored) sends it; the one place tests build a hello.</summary>
    public static byte[] Hello(string password = "", ushort version = ProtocolLimits.Version, ConnectionRole role = ConnectionRole.Client, ulong requestId = 1)
    {
        var writer = new ArrayBufferWriter<byte>();
        new HelloRequest(version, role, password, 0, Guid.Empty, Guid.Empty, NodeHelloFlags.None, role == ConnectionRole.Node ? ulong.MaxValue : 0).Write(writer, requestId);
        return writer.WrittenSpan.ToArray();
    }

    public Task SendFrameAsync(Opcode opcode, ulong requestId, params byte[][] fields)
    {
        var writer = new ArrayBufferWriter<byte>();
        var body = new ArrayBufferWriter<byte>();
        foreach (var field in fields)
        {
            var span = body.GetSpan(4 + field.Length);
            body.Advance(FrameWriter.WriteField(span, field));
        }
        FrameWriter.WriteRaw(writer, opcode, FrameFlags.None, StatusCode.Ok, requestId, body.WrittenSpan);
        return SendAsync(writer.WrittenMemory);
    }

    /// <summary>The next frame, or null when the router closed the connection.</summary>
    public async Task<(FrameHeader Header, string Body)?> ReadFrameAsync()
    {
        try
        {
            var frame = await FrameLoop.ReadFrameAsync(_input!, ProtocolLimits.DefaultMaxFrameSize).AsTask().WaitAsync(TestCluster.Timeout);
            return frame is null ? null : (frame.Header, Encoding.UTF8.GetString(frame.Body));
        }
        catch (IOException)
        {
            return null; // reset: closed too
        }
    }

    /// <summary>The next frame with its body as bytes, or null when the peer closed the connection.</summary>
    public async Task<ReceivedFrame?> ReadRawFrameAsync(TimeSpan? timeout = null)
    {
        try
        {
            return await FrameLoop.ReadFrameAsync(_input!, ProtocolLimits.DefaultMaxFrameSize).AsTask().WaitAsync(timeout ?? TestCluster.Timeout);
        }
        catch (IOException)
        {
            return null; // reset: closed too
        }
    }

    /// <summary>Sends whatever <paramref name="write"/> writes (a frame built with the protocol's own writers).</summary>
    public Task SendAsync(Action<IBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        return SendAsync(writer.WrittenMemory);
    }

    /// <summary>True once the peer has closed (reads return 0 or reset).</summary>
    public async Task<bool> IsClosedByPeerAsync()
    {
        try
        {
            while (true)
            {
                var result = await _input!.ReadAsync().AsTask().WaitAsync(TestCluster.Timeout);
                _input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                    return true;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            return true;
        }
    }

    /// <summary>Closes with a reset (linger 0), as a crashed peer's kernel would.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public void Dispose()
    {
        _input?.Complete();
        _socket.Dispose();
    }
}
