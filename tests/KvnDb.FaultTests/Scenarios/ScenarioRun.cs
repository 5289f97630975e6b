using System.Diagnostics;
using KvnDb.Client;
using KvnDb.FaultTests.Linearizability;
using KvnDb.FaultTests.Network;
using KvnDb.Protocol;
using Xunit.Abstractions;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>How a scenario reads its own timeline.</summary>
internal sealed record Expectations
{
    /// <summary>True on the first probe sample showing the router noticed the fault; null when detection does not apply.</summary>
    public Func<ProbeSample, bool>? Detected { get; init; }

    /// <summary>Shown instead of a detection time: when <see cref="Detected"/> is null (default "n/a") or never true (default "never").</summary>
    public string? DetectionNote { get; init; }

    /// <summary>How long to wait, after the heal, for the cluster to be whole before giving up on it.</summary>
    public TimeSpan RecoveryTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest write stall allowed (null: not asserted).</summary>
    public TimeSpan? MaxWriteStall { get; init; }

    /// <summary>Longest recovery allowed (null: not asserted).</summary>
    public TimeSpan? MaxRecovery { get; init; }

    /// <summary>When set, no write may end in a client-side timeout: every failure must be the router's answer.</summary>
    public bool WritesNeverHang { get; init; }
}

/// <summary>
/// One scenario from start to verdict: cluster up, workload running, the scenario's faults, then
/// recovery, read-back of every key, digests, the linearizability check, the measurements and the
/// assertions. Every wait is on a condition with a timeout, except the fault's own duration.
/// </summary>
internal sealed partial class ScenarioRun : ScenarioBase<Workload>
{
    private long _faultAt;
    private long _healAt;

    private ScenarioRun(string name, ITestOutputHelper output, FaultCluster cluster)
        : base(name, output, cluster)
    {
        Cluster = cluster;
    }

    public FaultCluster Cluster { get; }

    public ClusterProbe Probe => Cluster.Probe;

    /// <summary>Skips the test (with the reason) where namespaces cannot be built.</summary>
    public static async Task SkipUnlessAvailableAsync()
    {
        var reason = await NetworkLab.UnavailableReasonAsync();
        Skip.If(reason is not null, reason);
    }

    public static async Task<ScenarioRun> StartAsync(string name, ITestOutputHelper output, TimeSpan nodeLinkDelay = default)
    {
        var cluster = await FaultCluster.StartAsync(nodeLinkDelay);
        var run = new ScenarioRun(name, output, cluster);
        try
        {
            run.Log($"cluster up in lab {cluster.Lab.Id} ({FaultSettings.Label})");
            run.Workload = await Workload.StartAsync(cluster, run.History);
            if (!await run.Workload.WaitForAcknowledgedAsync(200, TimeSpan.FromSeconds(60)))
                throw new TimeoutException($"the workload did not get 200 writes acknowledged in 60 s\n{cluster.Diagnostics()}");
            run.Log("workload running");
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    /// <summary>Marks the start of the fault (the origin of stalls and detection).</summary>
    public void MarkFault(string what)
    {
        _faultAt = History.Now;
        Log($"fault: {what}");
    }

    /// <summary>Marks the end of the fault (the origin of recovery).</summary>
    public void MarkHeal(string what)
    {
        _healAt = History.Now;
        Log($"heal: {what}");
    }

    /// <summary>Keeps the fault in place for its intended duration: this wait is the scenario, not synchronisation.</summary>
    public Task HoldAsync(TimeSpan duration)
    {
        Output.WriteLine($"{Name}: holding the fault for {duration.TotalSeconds:0.#} s");
        return Task.Delay(duration);
    }

    /// <summary>
    /// Waits until <paramref name="node"/> has connected to the router: the router lists it (any state,
    /// serving or not) or the node logs that it connected, whichever comes first.
    /// </summary>
    public async Task WaitForNodeConnectedAsync(LabProcess node, TimeSpan timeout)
    {
        var after = History.Now;
        var listed = Probe.TryWaitForAsync(s => s.Reachable && Math.Max(s.Nodes, s.NodeStates.Count) >= 1, timeout, after);
        var logged = node.WaitForOutputAsync(ConnectedLine(), timeout);
        var first = await Task.WhenAny(listed, logged).WaitAsync(timeout + TimeSpan.FromSeconds(5));
        if (first == listed && await listed is not null)
            return;
        await logged; // throws with the node's output when it never connected
    }

    [System.Text.RegularExpressions.GeneratedRegex("(?i)connected to router")]
    private static partial System.Text.RegularExpressions.Regex ConnectedLine();

    public async Task<ScenarioReport> FinishAsync(Expectations expectations, Func<string>? notes = null)
    {
        var heal = _healAt != 0 ? _healAt : History.Now;
        if (_faultAt == 0)
            _faultAt = Started;
        TimeSpan? recovery = null;
        string? recoveryNote = _healAt == 0 ? "n/a" : null;
        var recovered = true;
        if (_healAt != 0)
        {
            var deadline = DateTime.UtcNow + expectations.RecoveryTimeout;
            var whole = await Probe.TryWaitForAsync(s => s.Serving == FaultCluster.NodeCount, expectations.RecoveryTimeout, heal);
            var written = await WaitForWriteAfterAsync(heal, deadline - DateTime.UtcNow);
            recovered = whole is not null && written is not null;
            if (whole is not null && written is { } writeAt)
                recovery = Stopwatch.GetElapsedTime(heal, Math.Max(whole.Time, writeAt));
            else
                recoveryNote = $"> {expectations.RecoveryTimeout.TotalSeconds:F0} s ({(whole is null ? "nodes not all serving" : "no write")})";
            Log($"recovery: {ScenarioReport.Seconds(recovery, recoveryNote)}");
        }
        // A little more traffic on the healed cluster, then stop and read everything back.
        if (recovered)
            await Workload.WaitForAcknowledgedAsync(Workload.AcknowledgedWrites + 50, TimeSpan.FromSeconds(10));
        var stoppedAt = History.Now;
        await StopWorkloadAsync();
        Log($"workload stopped: {Workload.AcknowledgedWrites} writes acknowledged, failures {string.Join(", ", Workload.Failures.Select(f => $"{f.Key} {f.Value}"))}");

        await using var reader = await Cluster.ConnectAsync(Cluster.ProbeHost, TimeSpan.FromSeconds(5)).WaitAsync(TimeSpan.FromSeconds(30));
        var finals = await ReadBackAsync(reader, Enumerable.Range(0, Workload.HotKeys).Select(Workload.HotKey), attempts: recovered ? 3 : 1);
        var (digestsAgree, digestSummary) = await CompareDigestsAsync(reader, TimeSpan.FromSeconds(recovered ? 20 : 2));

        var operations = History.Snapshot();
        var checking = Stopwatch.GetTimestamp();
        var check = RegisterChecker.Check(operations);
        Log($"checked {operations.Count} operations on {check.Keys.Count} keys in {Stopwatch.GetElapsedTime(checking).TotalSeconds:F1} s");
        var lost = FinalState.FindLost(operations, finals);
        var workloadOps = operations.Where(o => o.Process != ReadBackProcess).ToList();
        var detection = expectations.Detected is null ? null : Probe.First(_faultAt, expectations.Detected) is { } seen ? Stopwatch.GetElapsedTime(_faultAt, seen.Time) : (TimeSpan?)null;
        var report = new ScenarioReport
        {
            Scenario = Name,
            WriteStall = LongestGap(workloadOps.Where(o => o.IsAcknowledgedWrite).Select(o => o.Complete), _faultAt, stoppedAt),
            ReadStall = LongestGap(workloadOps.Where(o => o.Kind == OpKind.Get && o.Outcome is OpOutcome.Ok or OpOutcome.NotFound).Select(o => o.Complete), _faultAt, stoppedAt),
            Detection = detection,
            DetectionNote = expectations.DetectionNote ?? (expectations.Detected is null ? "n/a" : "never"),
            Recovery = recovery,
            RecoveryNote = recoveryNote,
            LostKeys = lost.LostKeys.Count,
            UnverifiedKeys = lost.UnverifiedKeys.Count,
            AcknowledgedKeys = lost.AcknowledgedKeys,
            Violations = check.Violations.Count,
            Inconclusive = check.Inconclusive.Count,
            Operations = operations.Count,
            DigestsAgree = digestsAgree,
            DigestSummary = digestSummary,
            Notes = string.Join("; ", new[] { notes?.Invoke(), FailureNote() }.Where(n => !string.IsNullOrEmpty(n))),
            ViolationExamples = [.. check.Violations.Take(3).Select(v => v.Explanation ?? v.Key)],
            LostExamples = [.. lost.LostKeys.Take(5).Select(k => $"{k} read back as {finals.First(f => f.Key == k).Value ?? "absent"}")],
        };
        Output.WriteLine(report.ToString());
        ResultsFile.Append(report);
        return report;
    }

    private string FailureNote() => $"write failures: {Describe(Workload.Failures)}; read failures: {Describe(Workload.ReadFailures)}";

    private static string Describe(IReadOnlyDictionary<string, int> failures) => failures.Count == 0
        ? "none"
        : string.Join(", ", failures.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Value} {f.Key.Replace("KvnDb", "", StringComparison.Ordinal).Replace("Exception", "", StringComparison.Ordinal)}"));

    /// <summary>Fails the test unless nothing acknowledged was lost, the history is linearizable, the digests agree and the timing bounds hold.</summary>
    public void AssertPassed(ScenarioReport report, Expectations expectations)
    {
        var failures = new List<string>();
        if (report.LostKeys > 0 || report.UnverifiedKeys > 0)
            failures.Add($"acknowledged keys lost: {report.Lost}");
        if (report.Violations > 0)
            failures.Add($"{report.Violations} keys with linearizability violations");
        if (!report.DigestsAgree)
            failures.Add($"digests after healing: {report.DigestSummary}");
        if (expectations.MaxWriteStall is { } maxStall && report.WriteStall > maxStall)
            failures.Add($"write stall {ScenarioReport.Seconds(report.WriteStall)} above {ScenarioReport.Seconds(maxStall)}");
        if (expectations.MaxRecovery is { } maxRecovery && (report.Recovery is not { } r || r > maxRecovery))
            failures.Add($"recovery {ScenarioReport.Seconds(report.Recovery, report.RecoveryNote)} above {ScenarioReport.Seconds(maxRecovery)}");
        if (expectations.WritesNeverHang && Workload.Failures.Where(f => f.Key.Contains("Timeout", StringComparison.Ordinal)).Sum(f => f.Value) is > 0 and var hung)
            failures.Add($"{hung} writes got no answer within the client's timeout (they must fail Unavailable instead)");
        if (failures.Count > 0)
            Assert.Fail($"{Name}: {string.Join("; ", failures)}\n{report}\n{Cluster.Diagnostics()}");
    }

    private async Task<long?> WaitForWriteAfterAsync(long after, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (true)
        {
            var first = History.Snapshot().Where(o => o.IsAcknowledgedWrite && o.Complete >= after).Select(o => (long?)o.Complete).Min();
            if (first is not null || DateTime.UtcNow > deadline)
                return first;
            await timer.WaitForNextTickAsync();
        }
    }

    /// <summary>The <c>kvndb digest</c> check: every node connected and serving, all digests equal (retried while a rejoin settles).</summary>
    internal static Task<(bool Agree, string Summary)> CompareDigestsAsync(KvnDbClient client, TimeSpan patience) =>
        PollDigestsAsync(patience, async token =>
        {
            var entries = await client.DigestAsync(token).WaitAsync(TimeSpan.FromSeconds(6), token);
            var summary = entries.Count == 0 ? "no node connected" : string.Join(", ", entries.Select(e => $"node{e.NodeId} {e.State.ToString().ToLowerInvariant()} keys={e.Digest.KeyCount} seq={e.Digest.LastSequence} hash={e.Digest.ContentHash:x}"));
            return (entries.Count == FaultCluster.NodeCount && entries.All(e => e.State == NodeState.Serving) && entries.Select(e => e.Digest).Distinct().Count() == 1, summary);
        });

    /// <summary>Asks <paramref name="look"/> (a 5 s budget each time) every half second until it says the digests agree or <paramref name="patience"/> ends.</summary>
    internal static async Task<(bool Agree, string Summary)> PollDigestsAsync(TimeSpan patience, Func<CancellationToken, Task<(bool Agree, string Summary)>> look)
    {
        var summary = "no answer";
        var deadline = DateTime.UtcNow + patience;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        do
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                (var agree, summary) = await look(timeout.Token);
                if (agree)
                    return (true, summary);
            }
            catch (Exception ex) when (ex is KvnDbException or TimeoutException or OperationCanceledException)
            {
                summary = $"digest failed: {ex.Message}";
            }
        }
        while (DateTime.UtcNow < deadline && await timer.WaitForNextTickAsync());
        return (false, summary);
    }

    /// <summary>Longest interval in [<paramref name="from"/>, <paramref name="to"/>] without any of <paramref name="times"/>.</summary>
    internal static TimeSpan LongestGap(IEnumerable<long> times, long from, long to)
    {
        var longest = 0L;
        var previous = from;
        foreach (var time in times.Where(t => t >= from && t <= to).Order().Append(to))
        {
            longest = Math.Max(longest, time - previous);
            previous = time;
        }
        return Stopwatch.GetElapsedTime(0, longest);
    }
}
