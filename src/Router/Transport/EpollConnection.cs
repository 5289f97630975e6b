using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KvnDb.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace KvnDb.Router.Transport;

/// <summary>One accepted socket on an <see cref="EpollLoop"/> (an <see cref="EpollSocket"/>), as Kestrel's <see cref="ConnectionContext"/>.</summary>
internal sealed class EpollConnection : ConnectionContext
{
    private readonly EpollSocket _socket;

    public EpollConnection(Socket socket, EpollLoop loop, EpollTransportOptions options, string connectionId)
    {
        ConnectionId = connectionId;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        _socket = new EpollSocket(socket, loop, options.MaxReadBufferSize, options.MaxWriteBufferSize);
        Transport = _socket;
        Features.Set<IConnectionIdFeature>(new ConnectionIdFeature(this));
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    internal void Start()
    {
        ConnectionClosed = _socket.Closed;
        _socket.Start();
    }

    public override void Abort(ConnectionAbortedException abortReason) => _socket.Abort(abortReason);

    public override async ValueTask DisposeAsync()
    {
        await _socket.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class ConnectionIdFeature(EpollConnection connection) : IConnectionIdFeature
    {
        public string ConnectionId
        {
            get => connection.ConnectionId;
            set => connection.ConnectionId = value;
        }
    }
}
