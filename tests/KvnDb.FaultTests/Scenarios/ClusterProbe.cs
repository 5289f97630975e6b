using KvnDb.Client;
using KvnDb.FaultTests.Linearizability;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>What the router's <c>info</c> said at one moment (or that it did not answer).</summary>
internal sealed record ProbeSample(long Time, bool Reachable, int Serving, int Nodes, int Clients, int Pending, IReadOnlyDictionary<string, string> NodeStates)
{
    /// <summary>The state the router reports for the node connected from <paramref name="address"/> (null: not connected).</summary>
    public string? StateOf(System.Net.IPAddress address) =>
        NodeStates.TryGetValue(address.ToString(), out var state) ? state : null;
}

/// <summary>
/// Polls the router's <c>info</c> from a host whose link is never cut, and keeps the timeline, so a
/// scenario can wait for a state (with a timeout) and read afterwards when the router noticed a fault
/// and when it was whole again. The sampling period bounds the precision of those times.
/// </summary>
internal sealed class ClusterProbe : IAsyncDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan InfoTimeout = TimeSpan.FromSeconds(1);

    private readonly Func<CancellationToken, Task<KvnDbClient>> _connect;
    private readonly List<ProbeSample> _samples = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ClusterProbe(Func<CancellationToken, Task<KvnDbClient>> connect)
    {
        _connect = connect;
        _loop = Task.Run(LoopAsync);
    }

    public IReadOnlyList<ProbeSample> Samples
    {
        get
        {
            lock (_lock)
                return [.. _samples];
        }
    }

    public ProbeSample? Latest
    {
        get
        {
            lock (_lock)
                return _samples.Count == 0 ? null : _samples[^1];
        }
    }

    private async Task LoopAsync()
    {
        KvnDbClient? client = null;
        using var timer = new PeriodicTimer(Period);
        try
        {
            do
            {
                var sample = await SampleAsync(client).ConfigureAwait(false);
                client = sample.Client;
                Add(sample.Sample);
            }
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            if (client is not null)
                await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<(ProbeSample Sample, KvnDbClient? Client)> SampleAsync(KvnDbClient? client)
    {
        var started = History.Now;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(InfoTimeout * 3);
            client ??= await _connect(timeout.Token).WaitAsync(InfoTimeout * 3).ConfigureAwait(false);
            var info = await client.InfoAsync(timeout.Token).WaitAsync(InfoTimeout * 3).ConfigureAwait(false);
            return (Parse(started, info), client);
        }
        catch (Exception ex) when (ex is KvnDbException or TimeoutException or OperationCanceledException && !_stop.IsCancellationRequested)
        {
            return (new ProbeSample(started, false, 0, 0, 0, 0, new Dictionary<string, string>()), client);
        }
    }

    private void Add(ProbeSample sample)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _samples.Add(sample);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    /// <summary>Waits for a sample taken after <paramref name="after"/> (a <see cref="History.Now"/> time) that satisfies <paramref name="condition"/>; null on timeout.</summary>
    public async Task<ProbeSample?> TryWaitForAsync(Func<ProbeSample, bool> condition, TimeSpan timeout, long after = 0)
    {
        var deadline = DateTime.UtcNow + timeout;
        var seen = 0;
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                for (; seen < _samples.Count; seen++)
                {
                    if (_samples[seen].Time >= after && condition(_samples[seen]))
                        return _samples[seen];
                }
                changed = _changed.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || _loop.IsCompleted)
                return null;
            try
            {
                await changed.WaitAsync(left).ConfigureAwait(false); // the next sample, or the deadline
            }
            catch (TimeoutException)
            {
                // Checked at the top of the loop.
            }
        }
    }

    /// <summary>As <see cref="TryWaitForAsync"/>, but a timeout fails the test, saying what was awaited.</summary>
    public async Task<ProbeSample> WaitForAsync(Func<ProbeSample, bool> condition, TimeSpan timeout, string what, long after = 0) =>
        await TryWaitForAsync(condition, timeout, after).ConfigureAwait(false)
            ?? throw new TimeoutException($"{what} not seen within {timeout.TotalSeconds:F0} s; last info: {Latest}");

    /// <summary>The first sample at or after <paramref name="after"/> that satisfies <paramref name="condition"/>.</summary>
    public ProbeSample? First(long after, Func<ProbeSample, bool> condition)
    {
        lock (_lock)
            return _samples.FirstOrDefault(s => s.Time >= after && condition(s));
    }

    private static ProbeSample Parse(long time, string text)
    {
        var info = RouterInfo.Parse(text);
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in info.Nodes)
        {
            var address = node.Address;
            var colon = address.LastIndexOf(':');
            var host = (colon > 0 ? address[..colon] : address).Trim('[', ']');
            if (host.StartsWith("::ffff:", StringComparison.Ordinal))
                host = host[7..];
            states[host] = node.State;
        }
        return new ProbeSample(time, true, info.NodesServing, info.NodeCount, (int)info.Clients, (int)info.Pending, states);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A request stuck past its own timeouts; the process ends it.
        }
    }
}
