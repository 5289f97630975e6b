using System.Net;
using Microsoft.AspNetCore.Connections;
using KvnDb.Router;
using Microsoft.Extensions.Logging;

namespace KvnDb.Resp;

/// <summary>
/// Kestrel connection middleware for the Redis-compatible port (<c>--resp-port</c>): each connection
/// is a <see cref="RespSession"/> speaking RESP2, or RESP3 after <c>HELLO 3</c>, over the same cluster,
/// routing, write concern (all) and password as native clients.
/// </summary>
internal sealed class RespConnectionHandler(IRouterCore core, ILogger<RespConnectionHandler> logger) : ConnectionHandler
{
    private readonly RespServerState _server = new(core);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        core.Stats.ConnectionAccepted();
        core.Stats.ClientConnected();
        var id = _server.Connected();
        var remote = connection.RemoteEndPoint?.ToString() ?? "?";
        // A client that stops reading its replies is cut off past the output limit, as on the native port.
        var output = new OutputChannel(connection.Transport.Output, () =>
        {
            RespLog.OutputLimit(logger, remote, core.Options.OutputLimitBytes);
            connection.Abort(new ConnectionAbortedException("output limit exceeded"));
        }, core.Options.OutputHoldLimit, core.Stats);
        var session = new RespSession(id, remote, output, _server, logger, () => connection.Abort(new ConnectionAbortedException("closed by the router (idle or auth timeout, CLIENT KILL, limits)")))
        {
            LocalPort = (connection.LocalEndPoint as IPEndPoint)?.Port ?? 0,
        };
        RespLog.Connected(logger, id, remote);
        core.AddClient(session);
        _server.Register(session);
        try
        {
            await session.RunAsync(connection.Transport.Input, connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ConnectionResetException)
        {
            // The client went away; replies still owed to it are dropped.
        }
        finally
        {
            _server.Unregister(session);
            session.Closed();
            core.RemoveClient(session);
            _server.Disconnected();
            core.Stats.ClientDisconnected();
            RespLog.Disconnected(logger, id, remote);
        }
    }
}
