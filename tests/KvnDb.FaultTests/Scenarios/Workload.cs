using System.Collections.Concurrent;
using System.Globalization;
using KvnDb.Client;
using KvnDb.FaultTests.Linearizability;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>
/// Concurrent writers and readers, each with its own connection, pacing one operation at a time and
/// recording every attempt in the history. Writers alternate between a hot key (set, sometimes
/// delete: registers with many writers and readers) and a fresh key written once (the ledger of
/// acknowledged writes to read back). Every attempt writes a unique value.
/// </summary>
internal sealed class Workload : WorkloadBase
{
    public const int HotKeys = 24;
    public const int DeleteKeys = 4;

    private readonly ConcurrentDictionary<string, int> _readFailures = new(StringComparer.Ordinal);
    private int _acknowledged;
    private int _busy;
    private volatile TaskCompletionSource _running = Open();

    private Workload(History history, TimeSpan requestTimeout)
        : base(history, requestTimeout)
    {
    }

    public int AcknowledgedWrites => Volatile.Read(ref _acknowledged);

    /// <summary>Read failures by kind (exception type), for the report.</summary>
    public IReadOnlyDictionary<string, int> ReadFailures => _readFailures;

    public static string HotKey(int index) => $"hot{index}";

    public static async Task<Workload> StartAsync(FaultCluster cluster, History history, int writers = 2, int readers = 2, TimeSpan? requestTimeout = null)
    {
        var timeout = requestTimeout ?? TimeSpan.FromSeconds(10); // the client's default
        var workload = new Workload(history, timeout);
        using var connecting = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        for (var i = 0; i < writers + readers; i++)
            workload.Clients.Add(await cluster.ConnectAsync(cluster.ClientHost, timeout, connecting.Token).ConfigureAwait(false));
        for (var i = 0; i < writers; i++)
        {
            var (process, client) = (i + 1, workload.Clients[i]);
            workload.Workers.Add(Task.Run(() => workload.WriteLoopAsync(process, client)));
        }
        for (var i = 0; i < readers; i++)
        {
            var (process, client) = (writers + i + 1, workload.Clients[writers + i]);
            workload.Workers.Add(Task.Run(() => workload.ReadLoopAsync(process, client)));
        }
        return workload;
    }

    /// <summary>Waits until <paramref name="count"/> writes in all were acknowledged; false on timeout.</summary>
    public Task<bool> WaitForAcknowledgedAsync(int count, TimeSpan timeout) => WaitForAsync(() => AcknowledgedWrites >= count, timeout);

    private async Task WriteLoopAsync(int process, KvnDbClient client)
    {
        var random = new Random(process);
        using var timer = new PeriodicTimer(Pace);
        for (var attempt = 0; await TickAsync(timer).ConfigureAwait(false) && await EnterAsync().ConfigureAwait(false); attempt++)
        {
            var fresh = attempt % 2 == 0;
            var key = fresh ? $"fresh-{process}-{attempt}" : HotKey(random.Next(HotKeys));
            var value = $"v{process}-{attempt}";
            // Deletes only on the first few hot keys: a delete that found a key keeps every unknown
            // write before it in the checker's search, so other keys stay cheap to check.
            var delete = !fresh && int.Parse(key.AsSpan(3), CultureInfo.InvariantCulture) < DeleteKeys && random.Next(3) == 0;
            var invoke = History.Now;
            using var timeout = new CancellationTokenSource(OperationTimeout);
            OpOutcome outcome;
            try
            {
                if (delete)
                {
                    var existed = await client.DeleteAsync(key, cancellationToken: timeout.Token).AsTask().WaitAsync(OperationTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                    outcome = existed ? OpOutcome.Ok : OpOutcome.NotFound;
                }
                else
                {
                    await client.SetAsync(key, value, cancellationToken: timeout.Token).AsTask().WaitAsync(OperationTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                    outcome = OpOutcome.Ok;
                }
                Interlocked.Increment(ref _acknowledged);
            }
            catch (Exception ex) when (IsRequestFailure(ex))
            {
                outcome = Classify(ex);
                CountFailure(ex.GetType().Name);
            }
            History.Add(new Operation(process, key, delete ? OpKind.Delete : OpKind.Set, delete ? null : value, invoke, History.Now, outcome));
            Interlocked.Decrement(ref _busy);
        }
    }

    private async Task ReadLoopAsync(int process, KvnDbClient client)
    {
        var random = new Random(process);
        using var timer = new PeriodicTimer(Pace);
        while (await TickAsync(timer).ConfigureAwait(false) && await EnterAsync().ConfigureAwait(false))
        {
            var key = HotKey(random.Next(HotKeys));
            var invoke = History.Now;
            using var timeout = new CancellationTokenSource(OperationTimeout);
            try
            {
                var value = await client.GetStringAsync(key, timeout.Token).AsTask().WaitAsync(OperationTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                History.Add(new Operation(process, key, OpKind.Get, value, invoke, History.Now, value is null ? OpOutcome.NotFound : OpOutcome.Ok));
            }
            catch (Exception ex) when (IsRequestFailure(ex))
            {
                History.Add(new Operation(process, key, OpKind.Get, null, invoke, History.Now, OpOutcome.Indeterminate));
                _readFailures.AddOrUpdate(ex.GetType().Name, 1, (_, n) => n + 1);
            }
            Interlocked.Decrement(ref _busy);
        }
    }

    /// <summary>
    /// Stops issuing operations and waits until none is in flight (false on timeout): a quiet moment,
    /// when the links carry nothing but what the servers send by themselves.
    /// </summary>
    public Task<bool> PauseAsync(TimeSpan timeout)
    {
        _running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return WaitForAsync(() => Volatile.Read(ref _busy) <= 0, timeout);
    }

    public void Resume() => _running.TrySetResult();

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    /// <summary>Counts the caller in flight, waiting first while the workload is paused; false once stopped.</summary>
    private async ValueTask<bool> EnterAsync()
    {
        while (true)
        {
            // Counted before the check, so a pause that sees no one busy has no one about to start.
            Interlocked.Increment(ref _busy);
            var running = _running;
            if (running.Task.IsCompleted)
                return true;
            Interlocked.Decrement(ref _busy);
            try
            {
                await running.Task.WaitAsync(Stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }
}
