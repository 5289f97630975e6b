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
/// embedded ram nodes. Used by the <c>kvndb-router</c> program and by tests (port 0). The listeners live as long as
/// the host; what they serve is its <see cref="RouterRole"/>, which a router group's member switches in place
/// (<see cref="ChangeRole"/>: standby, active, standby again) without closing a port.
/// </summary>
public sealed class RouterHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ILoggerFactory _loggerFactory;
    private readonly CancellationTokenSource _nodesStopping = new();
    private readonly List<Task> _embeddedNodes = [];
    private X509Certificate2? _certificate;
    private RouterRole _role;

    private RouterHost(WebApplication app, RouterRole role, ILoggerFactory loggerFactory, int port)
    {
        _app = app;
        _role = role;
        _loggerFactory = loggerFactory;
        Port = port;
    }

    private RouterRole Role => Volatile.Read(ref _role);

    /// <summary>The options of the current role (the bound ports in place of 0 once a group's member changed role).</summary>
    public RouterOptions Options => Role.Options;

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

    /// <summary>The current role's cluster.</summary>
    internal Cluster Cluster => Role.Cluster;

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
                BusyPoll = options.BusyPoll,
                MaxReadBufferSize = (long)options.MaxFrameSize + 64 * 1024,
                MaxWriteBufferSize = options.EffectiveOutputPause,
                CreateBoundListenSocket = CreateBoundListenSocket,
            }, loggerFactory));
        var role = RouterRole.Start(options, loggerFactory);
        RouterHost? host = null;
        // Every connection is admitted by the role of the moment and stays with it (RouterRole.AdmitAsync).
        RouterRole Current() => host?.Role ?? role;
        // Kept to read the bound ports back after start (port 0 in tests).
        ListenOptions? mainListen = null, respListen = null, metricsListen = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // No per-listener limit: the budget counts across listeners, keeps room for nodes, and does not count a
            // connection waiting out a wrong password (a Kestrel limit would, and 2,000 of them would lock everyone out).
            kestrel.Limits.MaxConcurrentConnections = null;
            kestrel.Listen(ParseAddress(options.ListenHost), options.Port, listen =>
            {
                mainListen = listen;
                listen.Use(next => connection => Current().AdmitAsync(next, connection, acceptsNodes: true)); // counted before TLS: a handshake holds a place too
                if (certificate is not null)
                    listen.UseHttps(TlsServerOptions(certificate, options.TlsCaFile));
                listen.Run(connection => RoleOf(connection).Native.OnConnectedAsync(connection));
            });
            if (options.RespPort is { } respPort)
            {
                kestrel.Listen(ParseAddress(options.ListenHost), respPort, listen =>
                {
                    respListen = listen;
                    listen.Use(next => connection => Current().AdmitAsync(next, connection, acceptsNodes: false));
                    if (certificate is not null)
                        listen.UseHttps(TlsServerOptions(certificate, options.TlsCaFile));
                    listen.Run(connection => RoleOf(connection).Resp!.OnConnectedAsync(connection));
                });
            }
            if (options.HttpPort is { } httpPort)
                kestrel.Listen(ParseAddress(options.ListenHost), httpPort, listen => metricsListen = listen);
        });
        WebApplication app;
        try
        {
            app = builder.Build();
            if (options.HttpPort is not null)
                app.Run(context => Current().Http!.HandleAsync(context));
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await role.StopAsync().ConfigureAwait(false);
            await role.DisposeAsync().ConfigureAwait(false);
            certificate?.Dispose();
            throw;
        }

        host = new RouterHost(app, role, loggerFactory, mainListen!.IPEndPoint!.Port)
        {
            _certificate = certificate,
            RespPort = respListen?.IPEndPoint?.Port,
            HttpPort = metricsListen?.IPEndPoint?.Port,
        };
        role.Http?.Endpoints = host.Endpoints;
        var logger = loggerFactory.CreateLogger<RouterHost>();
        RouterLog.Listening(logger, options.Host, host.Port, KvnDb.Protocol.ProtocolLimits.Version);
        if (host.RespPort is { } boundRespPort)
            RouterLog.RespListening(logger, options.Host, boundRespPort);
        host.StartEmbeddedNodes(options, loggerFactory);
        return host;

        RouterRole RoleOf(ConnectionContext connection) => connection.Features.Get<RouterRole>() ?? Current();
    }

    private RouterEndpoints Endpoints => new(ConnectHost, Port, RespPort);

    /// <summary>
    /// Switches the ports to a role built from <paramref name="options"/> (a router group's standby or active role; the
    /// listen settings must not change: the ports stay bound). The new role serves every connection accepted from now
    /// on. Returns the previous one, still running its connections: the caller retires it
    /// (<see cref="RouterRole.RetireAsync"/>: nodes get a Closing notice and find the leader, sessions end).
    /// </summary>
    internal RouterRole ChangeRole(RouterOptions options)
    {
        var role = RouterRole.Start(options with { Port = Port, RespPort = RespPort ?? options.RespPort, HttpPort = HttpPort ?? options.HttpPort }, _loggerFactory);
        role.Http?.Endpoints = Endpoints;
        return Interlocked.Exchange(ref _role, role);
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
            BusyPoll = options.BusyPoll,
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

    /// <summary>
    /// Stops within a second with nodes and clients connected: embedded nodes stop, the role ends its sessions and node
    /// links (nodes are sent a Closing notice and reconnect with their backoff; what is still open after a short grace is
    /// aborted), and only then Kestrel stops, with nothing left to wait for.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _nodesStopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_embeddedNodes).ConfigureAwait(false);
        var role = Role;
        await role.StopAsync().ConfigureAwait(false);
        using (var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
            await _app.StopAsync(stopTimeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await role.DisposeAsync().ConfigureAwait(false);
        _nodesStopping.Dispose();
        _certificate?.Dispose();
    }
}
