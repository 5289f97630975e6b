using System.Net;
using System.Net.Sockets;
using KvnDb.Transport;
using Microsoft.AspNetCore.Connections;

namespace KvnDb.Router.Transport;

/// <summary>Accepts sockets on one endpoint and starts each on the next <see cref="EpollLoop"/> in turn.</summary>
internal sealed class EpollConnectionListener(Socket listenSocket, EpollLoopSet loops, EpollTransportOptions options) : IConnectionListener
{
    private long _accepted;

    public EndPoint EndPoint { get; } = listenSocket.LocalEndPoint!;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listenSocket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return null; // unbound
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.OperationAborted)
            {
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                continue; // the peer gave up before we took it
            }
            try
            {
                socket.NoDelay = options.NoDelay;
                var connection = new EpollConnection(socket, loops.Next(), options, $"epoll-{Interlocked.Increment(ref _accepted):x}");
                connection.Start();
                return connection;
            }
            catch (SocketException)
            {
                socket.Dispose(); // gone between accept and set-up
            }
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        listenSocket.Dispose();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        listenSocket.Dispose();
        return ValueTask.CompletedTask;
    }
}
