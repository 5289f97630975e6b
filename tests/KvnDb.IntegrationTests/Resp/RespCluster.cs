using KvnDb.Router;

namespace KvnDb.IntegrationTests.Resp;

/// <summary>Starts a <see cref="TestCluster"/> whose router also listens for RESP on a free port.</summary>
internal static class RespCluster
{
    public static Task<TestCluster> StartAsync(int nodes = 2, RouterOptions? options = null) =>
        TestCluster.StartAsync(nodes, (options ?? new RouterOptions()) with { RespPort = 0 });

    public static int RespPort(this TestCluster cluster) =>
        cluster.Router.RespPort ?? throw new InvalidOperationException("the RESP listener is off");
}
