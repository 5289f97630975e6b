using KvnDb.Bench;

namespace KvnDb.Benchmarks;

/// <summary>Drives connections of the load generator until <c>requests</c> are done, in batches of <c>pipeline</c>.</summary>
internal static class LoadRun
{
    public static async Task RunAsync(LoadConnection[] connections, TestKind test, long requests, int pipeline)
    {
        var work = new WorkCounter(requests);
        await Task.WhenAll(connections.Select(connection => Task.Run(async () =>
        {
            int batch;
            while ((batch = work.Claim(pipeline)) > 0)
            {
                if (await connection.RunBatchAsync(test, batch, null, CancellationToken.None) != 0)
                    throw new InvalidOperationException($"{test} failed");
                work.Complete(batch);
            }
        })));
    }
}
