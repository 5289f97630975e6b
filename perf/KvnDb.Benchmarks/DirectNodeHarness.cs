using System.Buffers;
using System.Net;
using System.Net.Sockets;
using KvnDb.Bench;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Transport;
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

    public async Task StartAsync(int valueSize, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null, IoEngine? engine = null)
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var node = new DatabaseNode(new NodeOptions { RouterHost = "127.0.0.1", RouterPort = port, IoEngine = engine ?? EpollNative.DefaultEngine }, new RamStorageEngine(), loggerFactory ?? NullLoggerFactory.Instance);
        _node = Task.Run(() => node.RunAsync(_stop.Token));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var socket = await listener.AcceptAsync(timeout.Token).ConfigureAwait(false);
        socket.NoDelay = true;
        Connection = LoadConnection.OverSocket(socket, new KvnDbWire(sequencedWrites: true), keyspace: 0, valueSize, seed: 1);
        await AnswerHelloAsync(Connection, timeout.Token).ConfigureAwait(false);
    }

    private static async Task AnswerHelloAsync(LoadConnection connection, CancellationToken cancellationToken)
    {
        var hello = await FrameLoop.ReadFrameAsync(connection.Input, 4096, cancellationToken).ConfigureAwait(false)
            ?? throw new IOException("the node closed the connection during its hello");
        if (hello.Header.Opcode != Opcode.Hello)
            throw new InvalidDataException($"expected the node's hello, got {hello.Header.Opcode}");
        var reply = new ArrayBufferWriter<byte>();
        new HelloResponse(ProtocolLimits.Version, 1, ProtocolLimits.DefaultMaxFrameSize, ProtocolLimits.DefaultMaxKeySize).Write(reply, hello.Header.RequestId);
        await connection.SendAsync(reply.WrittenMemory, cancellationToken).ConfigureAwait(false);
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
