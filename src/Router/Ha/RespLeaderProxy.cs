using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router.Ha;

/// <summary>
/// The RESP port of a standby: every connection is relayed byte for byte to the active router's RESP port, so a
/// plain Redis client pointed at any router of the group works. Without a known leader (an election) the client
/// gets <c>-TRYAGAIN</c> and the connection closes; the relay ends when either side closes, and when this standby
/// stops (it is about to lead: its clients reconnect, to it).
/// </summary>
internal sealed partial class RespLeaderProxy(Cluster cluster, ILogger<RespLeaderProxy> logger) : ConnectionHandler
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(3);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var role = cluster.Options.Group!;
        var output = connection.Transport.Output;
        if (cluster.Options.UsesTls || role.Group.LeaderResp is not { } leader)
        {
            var why = cluster.Options.UsesTls ? "this router is a standby and relays no TLS RESP connection; connect to the leader" : "no router group leader is known yet";
            try
            {
                await output.WriteAsync(Encoding.UTF8.GetBytes($"-TRYAGAIN {why} ({role.Leader})\r\n"), connection.ConnectionClosed).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // The client left first.
            }
            return;
        }
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, cluster.Stopping);
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
            {
                timeout.CancelAfter(ConnectTimeout);
                await socket.ConnectAsync(leader.Host, leader.Port, timeout.Token).ConfigureAwait(false);
            }
            await using var upstream = new NetworkStream(socket, ownsSocket: false);
            var toLeader = connection.Transport.Input.CopyToAsync(upstream, stop.Token);
            var fromLeader = upstream.CopyToAsync(output, stop.Token);
            await Task.WhenAny(toLeader, fromLeader).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(toLeader, fromLeader).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            LogRelayEnded(connection.RemoteEndPoint?.ToString() ?? "?", leader.ToString(), ex.Message);
        }
    }

    [LoggerMessage(176, LogLevel.Debug, "RESP relay of {Client} to the leader {Leader} ended: {Reason}")]
    private partial void LogRelayEnded(string client, string leader, string reason);
}
