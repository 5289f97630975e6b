using System.Net;
using System.Net.Sockets;
using KvnDb.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router.Transport;

/// <summary>
/// Kestrel's transport for <c>--io-engine epoll</c>: IP endpoints only, on Linux. Registered after the socket
/// transport, so Kestrel prefers it; the connection middleware (budget, TLS, handlers) is the same over either.
/// </summary>
internal sealed class EpollTransportFactory(EpollTransportOptions options, ILoggerFactory loggerFactory)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly EpollLoopSet _loops = new(options.LoopCount, options.BusyPoll, loggerFactory.CreateLogger("KvnDb.Router.Transport.Epoll"));

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint)
            throw new NotSupportedException($"the epoll transport binds IP endpoints only, not {endpoint}");
        var socket = options.CreateBoundListenSocket?.Invoke(endpoint) ?? Bind(endpoint);
        try
        {
            socket.Listen(512);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new AddressInUseException(ex.Message, ex);
        }
        return ValueTask.FromResult<IConnectionListener>(new EpollConnectionListener(socket, _loops, options));
    }

    private static Socket Bind(EndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            return socket;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new AddressInUseException(ex.Message, ex);
        }
    }

    public void Dispose() => _loops.Dispose();
}
