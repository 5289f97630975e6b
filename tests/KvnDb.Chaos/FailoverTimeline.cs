using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace KvnDb.Chaos;

/// <summary>
/// Where the time of one failover goes: from the leader's SIGKILL, the first output line of every surviving router and
/// node that marks a stage (seen as the line arrives: the processes' own clocks are not needed), and the first
/// acknowledgement of a write sent after the kill. The stages, in the order they happen: a standby noticed the leader
/// is gone, a new leader was elected, it committed its announcement, its host serves the active role, a node linked to it,
/// it adopted a source of truth, a node serves, a write was acknowledged.
/// </summary>
internal sealed partial class FailoverTimeline
{
    private static readonly (string Name, Regex Line)[] Stages =
    [
        ("leader lost", LeaderLost()),
        ("elected", Elected()),
        ("announced", Announced()),
        ("listening", Listening()),
        ("node linked", NodeLinked()),
        ("adopted", Adopted()),
        ("serving", Serving()),
    ];

    private readonly Lock _lock = new();
    private readonly Stopwatch _clock;
    private readonly TimeSpan _killedAt;
    private readonly TimeSpan?[] _seen = new TimeSpan?[Stages.Length + 1];
    private readonly List<ManagedProcess> _watched;

    private FailoverTimeline(Stopwatch clock, TimeSpan killedAt, List<ManagedProcess> watched)
    {
        _clock = clock;
        _killedAt = killedAt;
        _watched = watched;
    }

    /// <summary>The stage names, the last one the first acknowledged write.</summary>
    public static IReadOnlyList<string> StageNames { get; } = [.. Stages.Select(s => s.Name), "acknowledged"];

    /// <summary>Starts watching every process but <paramref name="killed"/>; <paramref name="killedAt"/> is the origin, on <paramref name="clock"/>.</summary>
    public static FailoverTimeline Watch(ChaosCluster cluster, ManagedProcess killed, Stopwatch clock, TimeSpan killedAt)
    {
        var watched = cluster.Routers.Concat(cluster.Nodes).Where(p => p != killed).ToList();
        var timeline = new FailoverTimeline(clock, killedAt, watched);
        foreach (var process in watched)
            process.Watch = timeline.OnLine;
        return timeline;
    }

    /// <summary>Seconds from the kill to each stage (null: not seen), the last one the first acknowledged write.</summary>
    public IReadOnlyList<double?> Seconds
    {
        get
        {
            lock (_lock)
                return [.. _seen.Select(s => s?.TotalSeconds)];
        }
    }

    /// <summary>Stops watching; <paramref name="acknowledgedAt"/> (on the same clock) is when writes resumed.</summary>
    public void Stop(TimeSpan acknowledgedAt)
    {
        foreach (var process in _watched)
            process.Watch = null;
        lock (_lock)
            _seen[^1] = acknowledgedAt - _killedAt;
    }

    public override string ToString() =>
        string.Join(", ", StageNames.Zip(Seconds, (name, s) => $"{name} {(s is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "-")}"));

    private void OnLine(string line)
    {
        var now = _clock.Elapsed - _killedAt;
        lock (_lock)
        {
            for (var i = 0; i < Stages.Length; i++)
            {
                if (_seen[i] is null && Stages[i].Line.IsMatch(line))
                {
                    _seen[i] = now;
                    return;
                }
            }
        }
    }

    /// <summary>Median and p99 of each stage over <paramref name="timelines"/>, one line.</summary>
    public static string Summarise(IReadOnlyList<FailoverTimeline> timelines)
    {
        var parts = new List<string>();
        for (var i = 0; i < StageNames.Count; i++)
        {
            var values = timelines.Select(t => t.Seconds[i]).OfType<double>().Order().ToList();
            if (values.Count == 0)
            {
                parts.Add($"{StageNames[i]} -");
                continue;
            }
            var p99 = values[Math.Min(values.Count - 1, (int)Math.Ceiling(values.Count * 0.99) - 1)];
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{StageNames[i]} {values[values.Count / 2]:0.00}/{p99:0.00}"));
        }
        return string.Join(", ", parts);
    }

    [GeneratedRegex(@"Router group: leader is none")]
    private static partial Regex LeaderLost();

    [GeneratedRegex(@"Router group: leader is (?!none)")]
    private static partial Regex Elected();

    [GeneratedRegex(@"this router leads term \d+")]
    private static partial Regex Announced();

    [GeneratedRegex(@"Router group: active host \(term \d+\) on the ports")]
    private static partial Regex Listening();

    [GeneratedRegex(@"Connected to router")]
    private static partial Regex NodeLinked();

    [GeneratedRegex(@"History \S+ begins from node")]
    private static partial Regex Adopted();

    [GeneratedRegex(@"is in sync and serving")]
    private static partial Regex Serving();
}
