using KvnDb.Node;
using KvnDb.Node.Storage;

namespace KvnDb.Testing;

/// <summary>An in-process database node with its own lifetime, connected to its router over a real socket.</summary>
public sealed class TestNode
{
    private readonly CancellationTokenSource _stop;

    private TestNode(DatabaseNode node, Task run, CancellationTokenSource stop)
    {
        Node = node;
        Run = run;
        _stop = stop;
    }

    public DatabaseNode Node { get; }

    public IStorageEngine Engine => Node.Engine;

    public Task Run { get; }

    public static TestNode Start(NodeOptions options, IStorageEngine engine, NodeIdentity identity)
    {
        var node = new DatabaseNode(options, engine, identity, TestLogging.Factory);
        var stop = new CancellationTokenSource();
        return new TestNode(node, Task.Run(() => node.RunAsync(stop.Token)), stop);
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Run.WaitAsync(TestCluster.Timeout);
    }
}
