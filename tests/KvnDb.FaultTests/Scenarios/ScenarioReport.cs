using System.Globalization;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>What one scenario measured, and how it is printed.</summary>
internal sealed record ScenarioReport
{
    public required string Scenario { get; init; }

    /// <summary>Longest gap between two successful writes from the fault to the end of the run.</summary>
    public required TimeSpan WriteStall { get; init; }

    public required TimeSpan ReadStall { get; init; }

    /// <summary>Fault to the router noticing it (null: never seen; not applicable when <see cref="DetectionNote"/> says so).</summary>
    public TimeSpan? Detection { get; init; }

    public string? DetectionNote { get; init; }

    /// <summary>Heal (or the scenario's end of fault) to the cluster being whole: writes succeed, every node serving.</summary>
    public TimeSpan? Recovery { get; init; }

    public string? RecoveryNote { get; init; }

    public required int LostKeys { get; init; }

    public required int UnverifiedKeys { get; init; }

    public required int AcknowledgedKeys { get; init; }

    public required int Violations { get; init; }

    public required int Inconclusive { get; init; }

    public required int Operations { get; init; }

    public required bool DigestsAgree { get; init; }

    public required string DigestSummary { get; init; }

    public string Notes { get; init; } = "";

    public IReadOnlyList<string> ViolationExamples { get; init; } = [];

    public IReadOnlyList<string> LostExamples { get; init; } = [];

    public static string Seconds(TimeSpan? value, string? note = null) =>
        value is { } v ? v.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s" : note ?? "never";

    public string Lost => UnverifiedKeys == 0
        ? $"{LostKeys} of {AcknowledgedKeys}"
        : $"{LostKeys} of {AcknowledgedKeys} (+{UnverifiedKeys} unreadable)";

    /// <summary>One row of the results table.</summary>
    public string TableRow =>
        $"| {Scenario} | {Seconds(WriteStall)} | {Seconds(ReadStall)} | {Seconds(Detection, DetectionNote)} | {Seconds(Recovery, RecoveryNote)} | {Lost} | {Violations}{(Inconclusive > 0 ? $" (+{Inconclusive} inconclusive)" : "")} | {(DigestsAgree ? "agree" : "DIFFER/missing")} | {Notes} |";

    public const string TableHeader =
        "| scenario | write stall | read stall | detection | recovery | acknowledged keys lost | violations | digests | notes |\n" +
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |";

    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"scenario {Scenario} ({FaultSettings.Label})");
        text.AppendLine(CultureInfo.InvariantCulture, $"  write stall {Seconds(WriteStall)}, read stall {Seconds(ReadStall)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  detection {Seconds(Detection, DetectionNote)}, recovery {Seconds(Recovery, RecoveryNote)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  acknowledged keys lost {Lost}; linearizability violations {Violations} (inconclusive {Inconclusive}) over {Operations} operations");
        text.AppendLine(CultureInfo.InvariantCulture, $"  digests: {DigestSummary}");
        if (Notes.Length > 0)
            text.AppendLine(CultureInfo.InvariantCulture, $"  notes: {Notes}");
        foreach (var example in ViolationExamples)
            text.AppendLine(CultureInfo.InvariantCulture, $"  violation: {example}");
        foreach (var example in LostExamples)
            text.AppendLine(CultureInfo.InvariantCulture, $"  lost: {example}");
        return text.ToString();
    }
}
