using KvnDb.Client;

namespace KvnDb.Testing;

/// <summary>Background writers (sets and deletes over a key space) that run until disposed, counting acknowledged writes.</summary>
public sealed class LoadWriter : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly AwaitableCounter _acknowledged = new();
    private readonly Task[] _workers;

    private LoadWriter(KvnDbClient client, int keySpace, int workers)
    {
        _workers = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            try
            {
                var random = new Random(w);
                while (!_stop.IsCancellationRequested)
                {
                    var key = $"k{random.Next(keySpace)}";
                    if (random.Next(5) == 0)
                        await client.DeleteAsync(key);
                    else
                        await client.SetAsync(key, $"w{w}-{random.Next()}");
                    _acknowledged.Increment();
                }
            }
            catch (Exception ex)
            {
                _acknowledged.Fail(ex); // a waiting test fails with the cause instead of timing out
                throw;
            }
        })).ToArray();
    }

    public long Acknowledged => _acknowledged.Value;

    public static LoadWriter Start(KvnDbClient client, int keySpace, int workers = 4) => new(client, keySpace, workers);

    /// <summary>Completes on the acknowledgement that brings the total to <paramref name="count"/>; fails if a writer fails.</summary>
    public Task WaitForWritesAsync(long count) => _acknowledged.WaitForAsync(count, Eventually.DefaultTimeout);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers).WaitAsync(TestCluster.Timeout);
    }
}
