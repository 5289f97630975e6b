using System.Net;
using System.Security.Cryptography.X509Certificates;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol.Tls;
using KvnDb.Router.Transport;
using KvnDb.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.Router;

/// <summary>
/// A running router: Kestrel with the KvnDb connection handler on one port (no HTTP), plus any
/// embedded ram nodes. Used by the <c>kvndb-router</c> program and by tests (port 0).
/// </summary>
public sealed class RouterHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _nodesStopping = new();
    private readonly List<Task> _embeddedNodes = [];
    private X509Certificate2? _certificate;

    private RouterHost(WebApplication app, RouterOptions options, int port)
    {
        _app = app;
        Options = options;
        Port = port;
        Cluster = app.Services.GetRequiredService<Cluster>();
    }

    public RouterOptions Options { get; }

    /// <summary>Cancelled when the host begins to stop (SIGINT/SIGTERM reach the host's lifetime first).</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    /// <summary>The bound HTTP port (status page, <c>/metrics</c>, <c>/health</c>), when <see cref="RouterOptions.HttpPort"/> is set.</summary>
    public int? HttpPort { get; private init; }

    /// <summary>The HTTP port's former name (it carried only <c>/metrics</c>).</summary>
    public int? MetricsPort => HttpPort;

    /// <summary>The bound port (the real one when the options asked for 0).</summary>
    public int Port { get; }

    /// <summary>Host clients and nodes use to reach this router.</summary>
    public string ConnectHost => Options.ListenHost switch
    {
        "0.0.0.0" or "*" => "127.0.0.1",
        "::" => "::1",
        var host => host,
    };

    internal Cluster Cluster { get; }

    /// <summary>The connection budget across every listener (for info and tests).</summary>
    internal KvnDb.Router.Connections.ConnectionBudget Connections => Cluster.Connections;

    /// <summary>Connections open now on every port, and refused at accept since the start (for tests and operators).</summary>
    public (int Open, int Clients, int Nodes, long Refused) ConnectionCounts => (Connections.Open, Connections.Clients, Connections.Nodes, Connections.Refused);

    /// <summary>The bound RESP port, or null when the RESP listener is off.</summary>
    public int? RespPort { get; private set; }

    public int NodeCount => Cluster.Nodes.Connected.Length;

    public int ServingNodeCount => Cluster.ServingNodeCount;

    /// <summary>The text of the <c>info</c> operation.</summary>
    public string Info => InfoReport.Build(Cluster);

    public static async Task<RouterHost> StartAsync(RouterOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        CredentialPolicy.Check(options);
        if (options.IoEngine == IoEngine.Epoll && !EpollNative.IsSupported)
            throw new PlatformNotSupportedException("--io-engine epoll needs Linux on x86-64 or arm64; use --io-engine sockets");
        var certificate = options.UsesTls
            ? TlsCertificates.LoadWithKey(options.TlsCertificateFile ?? throw new ArgumentException("-t tls needs --tls-cert FILE"), options.TlsKeyFile)
            : null;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sp => new Cluster(options, loggerFactory));
        builder.Services.AddSingleton<ClientRegistry>();
        builder.Services.AddSingleton<IRouterCore, RouterCore>();
        builder.Services.AddSingleton<RouterMetrics>();
        builder.Services.AddSingleton<PrometheusMetrics>();
        builder.WebHost.UseSockets(sockets =>
        {
            // Past this much unread output a flush stays pending: the router stops reading that client (OutputChannel) or
            // holds a node's writes in the log (NodeSender). A single larger frame passes too; it just waits to drain.
            sockets.MaxWriteBufferSize = options.EffectiveOutputPause;
            // A frame is consumed only when complete, so the read buffer must hold the largest frame.
            sockets.MaxReadBufferSize = (long)options.MaxFrameSize + 64 * 1024;
            sockets.NoDelay = true;
            sockets.UnsafePreferInlineScheduling = options.InlineIo;
            sockets.WaitForDataBeforeAllocatingBuffer = !options.EagerReads;
            if (options.IoQueueCount > 0)
                sockets.IOQueueCount = options.IoQueueCount;
            sockets.CreateBoundListenSocket = CreateBoundListenSocket;
        });
        if (options.IoEngine == IoEngine.Epoll)
            // Registered last, so Kestrel binds with it; the same limits as the socket transport's above.
            builder.Services.AddSingleton<IConnectionListenerFactory>(_ => new EpollTransportFactory(new EpollTransportOptions
            {
                LoopCount = options.IoThreads > 0 ? options.IoThreads : Math.Max(1, Environment.ProcessorCount / 2),
                MaxReadBufferSize = (long)options.MaxFrameSize + 64 * 1024,
                MaxWriteBufferSize = options.EffectiveOutputPause,
                CreateBoundListenSocket = CreateBoundListenSocket,
            }, loggerFactory));
        // Kept to read the bound ports back after start (port 0 in tests).
        ListenOptions? mainListen = null, respListen = null, metricsListen = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // No per-listener limit: the budget counts across listeners, keeps room for nodes, and does not count a
            // connection waiting out a wrong password (a Kestrel limit would, and 2,000 of them would lock everyone out).
            kestrel.Limits.MaxConcurrentConnections = null;
            var budget = kestrel.ApplicationServices.GetRequiredService<Cluster>().Connections;
            kestrel.Listen(ParseAddress(options.ListenHost), options.Port, listen =>
            {
                mainListen = listen;
                listen.Use(budget.Middleware(acceptsNodes: true)); // counted before TLS: a handshake holds a place too
                if (certificate is not null)
                    listen.UseHttps(TlsServerOptions(certificate, options.TlsCaFile));
                listen.UseConnectionHandler<KvnDbConnectionHandler>();
            });
            if (options.RespPort is { } respPort)
            {
                kestrel.Listen(ParseAddress(options.ListenHost), respPort, listen =>
                {
                    respListen = listen;
                    listen.Use(budget.Middleware(acceptsNodes: false));
                    if (certificate is not null)
                        listen.UseHttps(TlsServerOptions(certificate, options.TlsCaFile));
                    if (options.Group is { IsActive: false })
                        listen.UseConnectionHandler<Ha.RespLeaderProxy>(); // a standby relays RESP to the leader
                    else
                        listen.UseConnectionHandler<KvnDb.Resp.RespConnectionHandler>();
                });
            }
            if (options.HttpPort is { } httpPort)
                kestrel.Listen(ParseAddress(options.ListenHost), httpPort, listen => metricsListen = listen);
        });
        var app = builder.Build();
        var cluster = app.Services.GetRequiredService<Cluster>();
        cluster.Metrics = app.Services.GetRequiredService<RouterMetrics>();
        cluster.Health.Start();
        foreach (var group in cluster.Groups)
            group.Expiry.Start();
        HttpEndpoints? http = null;
        if (options.HttpPort is not null)
        {
            var prometheus = app.Services.GetRequiredService<PrometheusMetrics>();
            var routerMetrics = cluster.Metrics!;
            routerMetrics.Prometheus = prometheus;
            var history = new StatusHistory(cluster, routerMetrics.Latency, TimeSpan.FromSeconds(1));
            app.Lifetime.ApplicationStopped.Register(history.Dispose);
            http = new HttpEndpoints(cluster, app.Services.GetRequiredService<ClientRegistry>(), prometheus, history);
            app.Run(http.HandleAsync);
        }
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        var host = new RouterHost(app, options, mainListen!.IPEndPoint!.Port)
        {
            _certificate = certificate,
            RespPort = respListen?.IPEndPoint?.Port,
            HttpPort = metricsListen?.IPEndPoint?.Port,
        };
        http?.Endpoints = new RouterEndpoints(host.ConnectHost, host.Port, host.RespPort);
        var logger = loggerFactory.CreateLogger<RouterHost>();
        RouterLog.Listening(logger, options.Host, host.Port, KvnDb.Protocol.ProtocolLimits.Version);
        if (host.RespPort is { } boundRespPort)
            RouterLog.RespListening(logger, options.Host, boundRespPort);
        host.StartEmbeddedNodes(options, loggerFactory);
        return host;
    }

    /// <summary>Waits until at least <paramref name="count"/> nodes are serving (in sync and taking reads).</summary>
    public async Task WaitForServingNodesAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (ServingNodeCount < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{ServingNodeCount} of {count} nodes serving after {timeout}");
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    private void StartEmbeddedNodes(RouterOptions options, ILoggerFactory loggerFactory)
    {
        var nodeOptions = new NodeOptions
        {
            RouterHost = ConnectHost,
            RouterPort = Port,
            Password = Cluster.NodeSecret,
            // In-process nodes trust exactly this router's certificate.
            Tls = _certificate is null ? null : new TlsClientSettings { PinnedSha256 = TlsCertificates.Sha256(_certificate) },
            Embedded = true,
            IoEngine = options.IoEngine,
        };
        for (var i = 0; i < options.EmbeddedNodes; i++)
        {
            var node = new DatabaseNode(nodeOptions with { Name = $"embedded-{i + 1}" }, new RamStorageEngine(), loggerFactory);
            _embeddedNodes.Add(Task.Run(() => node.RunAsync(_nodesStopping.Token)));
        }
    }

    private static HttpsConnectionAdapterOptions TlsServerOptions(X509Certificate2 certificate, string? caFile)
    {
        var authorities = caFile is null ? null : TlsCertificates.LoadAuthorities(caFile);
        return new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            ClientCertificateMode = authorities is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = authorities is null
                ? null
                : (peer, _, errors) => TlsCertificates.Validate(peer, errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch, authorities, null),
            HandshakeTimeout = TimeSpan.FromSeconds(10),
        };
    }

    /// <summary>Accepted sockets inherit these: a vanished client or node is found by TCP even when idle.</summary>
    private static System.Net.Sockets.Socket CreateBoundListenSocket(EndPoint endpoint)
    {
        var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
        KvnDb.Protocol.TcpLiveness.Apply(socket, TimeSpan.FromSeconds(10));
        return socket;
    }

    private static IPAddress ParseAddress(string host) => host switch
    {
        "localhost" => IPAddress.Loopback,
        "0.0.0.0" or "*" => IPAddress.Any,
        "::" => IPAddress.IPv6Any,
        _ => IPAddress.Parse(host),
    };

    /// <summary>How long native sessions and node links get to close cleanly (node links send their Closing notice) before the rest is aborted.</summary>
    private static readonly TimeSpan CleanCloseGrace = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// Stops within a second with nodes and clients connected: embedded nodes stop, every session and node link gets the
    /// stopping signal (nodes are sent a Closing notice and reconnect with their backoff), what is still open after a short
    /// grace (RESP connections, a node that does not read) is aborted, and only then Kestrel stops, with nothing left to wait for.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _nodesStopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_embeddedNodes).ConfigureAwait(false);
        await Cluster.BeginStopAsync().ConfigureAwait(false);
        if (await Connections.WaitForCloseAsync(CleanCloseGrace).ConfigureAwait(false) > 0)
            Connections.AbortAll("the router is stopping");
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(stopTimeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false); // disposes the cluster (a singleton) too
        _nodesStopping.Dispose();
        _certificate?.Dispose();
    }
}
