using KvnDb.Client;
using KvnDb.Router;

namespace KvnDb.Scripts.Tests;

/// <summary>A real router on a loopback port chosen by the OS with two embedded ram nodes, shared by a test class.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private RouterHost? _router;

    public RouterHost Router => _router ?? throw new InvalidOperationException("not started");

    public int Port => Router.Port;

    public KvnDbClient Client { get; private set; } = null!;

    /// <summary>A compiled-script cache shared by the tests of one class, so each sample compiles once.</summary>
    public string SharedCache { get; } = Path.Combine(Path.GetTempPath(), "kvndb-script-tests", "cache-" + Guid.NewGuid().ToString("N"));

    /// <summary>The host arguments that point kvndb-script at this cluster, with a cache folder of the test's own.</summary>
    public string[] HostArgs(string cacheDirectory) => ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cache-dir", cacheDirectory];

    public async Task InitializeAsync()
    {
        _router = await RouterHost.StartAsync(new RouterOptions { Port = 0, EmbeddedNodes = 2 }).WaitAsync(Timeout);
        await _router.WaitForServingNodesAsync(2, Timeout);
        Client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = _router.Port, RequestTimeout = Timeout }).WaitAsync(Timeout);
    }

    public async Task DisposeAsync()
    {
        if (Client is not null)
            await Client.DisposeAsync().AsTask().WaitAsync(Timeout);
        if (_router is not null)
            await _router.DisposeAsync().AsTask().WaitAsync(Timeout);
        if (Directory.Exists(SharedCache))
            Directory.Delete(SharedCache, recursive: true);
    }
}
