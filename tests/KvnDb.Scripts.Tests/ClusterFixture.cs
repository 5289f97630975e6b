using KvnDb.Client;

namespace KvnDb.Scripts.Tests;

/// <summary>A <see cref="TestCluster"/> (a real router on a loopback port chosen by the OS, two ram nodes) shared by a test class.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TestCluster.Timeout;

    private TestCluster? _cluster;

    public int Port => (_cluster ?? throw new InvalidOperationException("not started")).Router.Port;

    public KvnDbClient Client { get; private set; } = null!;

    /// <summary>A compiled-script cache shared by the tests of one class, so each sample compiles once.</summary>
    public string SharedCache { get; } = Path.Combine(Path.GetTempPath(), "kvndb-script-tests", "cache-" + Guid.NewGuid().ToString("N"));

    /// <summary>The host arguments that point kvndb-script at this cluster, with a cache folder of the test's own.</summary>
    public string[] HostArgs(string cacheDirectory) => ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cache-dir", cacheDirectory];

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync(nodes: 2).WaitAsync(Timeout);
        Client = await _cluster.ConnectAsync().WaitAsync(Timeout);
    }

    public async Task DisposeAsync()
    {
        if (Client is not null)
            await Client.DisposeAsync().AsTask().WaitAsync(Timeout);
        if (_cluster is not null)
            await _cluster.DisposeAsync().AsTask().WaitAsync(Timeout);
        if (Directory.Exists(SharedCache))
            Directory.Delete(SharedCache, recursive: true);
    }
}
