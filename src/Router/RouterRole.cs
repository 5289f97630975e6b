using KvnDb.Router.Connections;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router;

/// <summary>
/// What a <see cref="RouterHost"/>'s ports serve for a while: one <see cref="Cluster"/> and the handlers in front of it
/// (native, RESP, HTTP), built from one <see cref="RouterOptions"/>. A single router has one role for its life; a router
/// group's member switches between a standby and an active role (<c>Ha/GroupRole</c>) on the same listening sockets,
/// so a failover neither stops Kestrel nor rebinds a port. A connection keeps the role it was accepted by, and ends
/// with it: <see cref="StopAsync"/> ends its sessions and node links as a stopping router does.
/// </summary>
internal sealed class RouterRole : IAsyncDisposable
{
    /// <summary>How long native sessions and node links get to close cleanly (node links send their Closing notice) before the rest is aborted.</summary>
    private static readonly TimeSpan CleanCloseGrace = TimeSpan.FromMilliseconds(300);

    /// <summary>How long aborted connections get to leave their handlers before the cluster is disposed under them.</summary>
    private static readonly TimeSpan AbortedGrace = TimeSpan.FromSeconds(1);

    private readonly ServiceProvider _services;
    private StatusHistory? _history;

    private RouterRole(RouterOptions options, ServiceProvider services)
    {
        Options = options;
        _services = services;
        Cluster = services.GetRequiredService<Cluster>();
        Clients = services.GetRequiredService<ClientRegistry>();
        Native = ActivatorUtilities.CreateInstance<KvnDbConnectionHandler>(services);
        if (options.RespPort is not null)
        {
            Resp = options.Group is { IsActive: false }
                ? ActivatorUtilities.CreateInstance<Ha.RespLeaderProxy>(services) // a standby relays RESP to the leader
                : ActivatorUtilities.CreateInstance<KvnDb.Resp.RespConnectionHandler>(services);
        }
    }

    public RouterOptions Options { get; }

    public Cluster Cluster { get; }

    public ClientRegistry Clients { get; }

    public ConnectionHandler Native { get; }

    /// <summary>The RESP port's handler (null when the RESP listener is off).</summary>
    public ConnectionHandler? Resp { get; }

    /// <summary>The HTTP port's endpoints (null when the HTTP listener is off).</summary>
    public HttpEndpoints? Http { get; private set; }

    /// <summary>Builds the role's cluster and starts its background work (health, expiry, the status history).</summary>
    public static RouterRole Start(RouterOptions options, ILoggerFactory loggerFactory)
    {
        var services = new ServiceCollection();
        services.AddSingleton(loggerFactory);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(options);
        services.AddSingleton(_ => new Cluster(options, loggerFactory));
        services.AddSingleton<ClientRegistry>();
        services.AddSingleton<IRouterCore, RouterCore>();
        services.AddSingleton<RouterMetrics>();
        services.AddSingleton<PrometheusMetrics>();
        var provider = services.BuildServiceProvider();
        RouterRole? role = null;
        try
        {
            role = new RouterRole(options, provider);
            var cluster = role.Cluster;
            cluster.Metrics = provider.GetRequiredService<RouterMetrics>();
            cluster.Health.Start();
            foreach (var group in cluster.Groups)
                group.Expiry.Start();
            if (options.HttpPort is not null)
            {
                var prometheus = provider.GetRequiredService<PrometheusMetrics>();
                cluster.Metrics.Prometheus = prometheus;
                role._history = new StatusHistory(cluster, cluster.Metrics.Latency, TimeSpan.FromSeconds(1));
                role.Http = new HttpEndpoints(cluster, role.Clients, prometheus, role._history);
            }
            return role;
        }
        catch
        {
            role?._history?.Dispose();
            provider.Dispose();
            throw;
        }
    }

    /// <summary>Admits a connection to this role's connection budget (counted before TLS) and runs the rest of its pipeline.</summary>
    public Task AdmitAsync(ConnectionDelegate next, ConnectionContext connection, bool acceptsNodes)
    {
        connection.Features.Set(this);
        return Cluster.Connections.RunAsync(next, connection, acceptsNodes);
    }

    /// <summary>
    /// Ends the role: every session and node link gets the stopping signal (nodes are sent a Closing notice and reconnect
    /// with their backoff, to whichever role the ports serve by then), what is still open after a short grace (RESP
    /// connections, a node that does not read) is aborted.
    /// </summary>
    public async Task StopAsync()
    {
        await Cluster.BeginStopAsync().ConfigureAwait(false);
        if (await Cluster.Connections.WaitForCloseAsync(CleanCloseGrace).ConfigureAwait(false) > 0)
        {
            Cluster.Connections.AbortAll("the router is stopping");
            await Cluster.Connections.WaitForCloseAsync(AbortedGrace).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the role (<see cref="StopAsync"/>), then disposes it.</summary>
    public async Task RetireAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Disposes the cluster and the rest (after <see cref="StopAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        _history?.Dispose();
        await _services.DisposeAsync().ConfigureAwait(false);
    }
}
