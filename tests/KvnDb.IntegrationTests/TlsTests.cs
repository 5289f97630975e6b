using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol.Tls;
using KvnDb.Router;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.IntegrationTests;

public sealed class TlsTests
{
    [Fact]
    public async Task Router_nodes_and_clients_round_trip_over_tls_and_a_wrong_certificate_is_refused()
    {
        using var certificates = new TestCertificates();
        var router = certificates.Create("router");
        var stranger = certificates.Create("stranger");
        await using var host = await RouterHost.StartAsync(new RouterOptions
        {
            Port = 0,
            Transport = "tls",
            TlsCertificateFile = router.Certificate,
            TlsKeyFile = router.Key,
            JoinGrace = TimeSpan.FromMilliseconds(50),
        });

        // A separate node verifying the router against its CA file, plus the router's own embedded-style pinning.
        using var stop = new CancellationTokenSource();
        var node = new DatabaseNode(new NodeOptions { RouterPort = host.Port, Tls = new TlsClientSettings { CaFile = router.Certificate } },
            new RamStorageEngine(), NullLoggerFactory.Instance);
        var nodeRun = Task.Run(() => node.RunAsync(stop.Token));
        await host.WaitForServingNodesAsync(1, TestCluster.Timeout);

        await using (var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = host.Port, Tls = new TlsClientSettings { CaFile = router.Certificate } }))
        {
            await client.SetAsync("secret", "over tls");
            Assert.Equal("over tls", await client.GetStringAsync("secret"));
        }
        await using (var pinned = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = host.Port, Tls = new TlsClientSettings { PinnedSha256 = router.Sha256 } }))
            Assert.Equal("over tls", await pinned.GetStringAsync("secret"));

        var wrongCa = await Assert.ThrowsAsync<KvnDbConnectionException>(() =>
            KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = host.Port, Tls = new TlsClientSettings { CaFile = stranger.Certificate } }));
        Assert.Contains("TLS handshake", wrongCa.Message);
        await Assert.ThrowsAsync<KvnDbConnectionException>(() =>
            KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = host.Port, Tls = new TlsClientSettings { PinnedSha256 = stranger.Sha256 } }));
        // Plain TCP against a TLS port gets nowhere either.
        await Assert.ThrowsAnyAsync<KvnDbException>(() =>
            KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = host.Port, ConnectTimeout = TimeSpan.FromSeconds(2), RequestTimeout = TimeSpan.FromSeconds(2) }));

        await stop.CancelAsync();
        await nodeRun.WaitAsync(TestCluster.Timeout);
    }

    [Fact]
    public async Task Mutual_tls_refuses_a_client_without_a_certificate_from_the_ca()
    {
        using var certificates = new TestCertificates();
        var router = certificates.Create("router");
        var clientCa = certificates.Create("client");
        var stranger = certificates.Create("stranger");
        await using var host = await RouterHost.StartAsync(new RouterOptions
        {
            Port = 0, Transport = "tls", TlsCertificateFile = router.Certificate, TlsKeyFile = router.Key, TlsCaFile = clientCa.Certificate,
            EmbeddedNodes = 0, JoinGrace = TimeSpan.FromMilliseconds(50),
        });
        var trusted = new TlsClientSettings { PinnedSha256 = router.Sha256, CertificateFile = clientCa.Certificate, KeyFile = clientCa.Key };
        await using (var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = host.Port, Tls = trusted }))
            Assert.True(await client.PingAsync() > TimeSpan.Zero);

        var untrusted = trusted with { CertificateFile = stranger.Certificate, KeyFile = stranger.Key };
        await Assert.ThrowsAnyAsync<KvnDbException>(async () =>
        {
            await using var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = host.Port, Tls = untrusted, RequestTimeout = TimeSpan.FromSeconds(3) });
            await client.PingAsync();
        });
    }

    [Fact]
    public async Task Embedded_nodes_and_ipv6_work()
    {
        await using var host = await RouterHost.StartAsync(new RouterOptions { Port = 0, Transport = "tcp6", EmbeddedNodes = 2, JoinGrace = TimeSpan.FromMilliseconds(50) });
        await host.WaitForServingNodesAsync(2, TestCluster.Timeout);
        await using var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Host = "::1", Port = host.Port });
        await client.SetAsync("v6", "yes");
        Assert.Equal("yes", await client.GetStringAsync("v6"));
    }
}
