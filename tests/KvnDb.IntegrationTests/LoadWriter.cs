using KvnDb.Client;

namespace KvnDb.IntegrationTests;

/// <summary>Background writers (sets and deletes over a key space) that run until disposed, counting acknowledged writes.</summary>
internal sealed class LoadWriter : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private long _acknowledged;

    private LoadWriter(KvnDbClient client, int keySpace, int workers)
    {
        _workers = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            while (!_stop.IsCancellationRequested)
            {
                var key = $"k{random.Next(keySpace)}";
                if (random.Next(5) == 0)
                    await client.DeleteAsync(key);
                else
                    await client.SetAsync(key, $"w{w}-{random.Next()}");
                Interlocked.Increment(ref _acknowledged);
            }
        })).ToArray();
    }

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public static LoadWriter Start(KvnDbClient client, int keySpace, int workers = 4) => new(client, keySpace, workers);

    public Task WaitForWritesAsync(long count) => RoundTripTests.WaitUntil(() => Acknowledged >= count || _workers.Any(w => w.IsFaulted));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers).WaitAsync(TestCluster.Timeout);
    }
}
