using System.Buffers;
using System.Net;
using System.Net.Sockets;
using KvnDb.Bench;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.Benchmarks;

/// <summary>
/// The baseline without a router: a real ram node connects (nodes always dial out) to a socket this
/// harness listens on, the harness answers its hello as a router would, and the benchmark then
/// speaks to the node directly on that connection (writes carry a sequence, as from a router).
/// Router-added latency is the router row minus this one.
/// </summary>
internal sealed class DirectNodeHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _node;

    public LoadConnection? Connection { get; private set; }

    public async Task StartAsync(int valueSize, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var node = new DatabaseNode(new NodeOptions { RouterHost = "127.0.0.1", RouterPort = port }, new RamStorageEngine(), loggerFactory ?? NullLoggerFactory.Instance);
        _node = Task.Run(() => node.RunAsync(_stop.Token));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var socket = await listener.AcceptAsync(timeout.Token).ConfigureAwait(false);
        socket.NoDelay = true;
        await AnswerHelloAsync(socket, timeout.Token).ConfigureAwait(false);
        Connection = new LoadConnection(socket, new KvnDbWire(sequencedWrites: true), keyspace: 0, valueSize, seed: 1);
    }

    private static async Task AnswerHelloAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var length = 0;
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
                throw new IOException("the node closed the connection during its hello");
            length += read;
            var sequence = new ReadOnlySequence<byte>(buffer, 0, length);
            if (FrameReader.TryRead(ref sequence, buffer.Length, out var header, out _) != FrameReadStatus.Complete)
                continue;
            if (header.Opcode != Opcode.Hello)
                throw new InvalidDataException($"expected the node's hello, got {header.Opcode}");
            var reply = new ArrayBufferWriter<byte>();
            new HelloResponse(ProtocolLimits.Version, 1).Write(reply, header.RequestId);
            await socket.SendAsync(reply.WrittenMemory, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            return;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (Connection is not null)
            await Connection.DisposeAsync().ConfigureAwait(false);
        if (_node is not null)
            await _node.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _stop.Dispose();
    }
}
