using KvnDb.FaultTests.Linearizability;

namespace KvnDb.FaultTests.CheckerTests;

/// <summary>Hand-built histories on one key, times in abstract ticks.</summary>
internal sealed class HistoryBuilder(string key = "k")
{
    private readonly List<Operation> _ops = [];

    public IReadOnlyList<Operation> Operations => _ops;

    public HistoryBuilder Set(int process, string value, long invoke, long complete, OpOutcome outcome = OpOutcome.Ok) =>
        Add(new Operation(process, key, OpKind.Set, value, invoke, complete, outcome));

    /// <summary>A set whose outcome is unknown (timed out): it may land at any time after <paramref name="invoke"/>, or never.</summary>
    public HistoryBuilder SetUnknown(int process, string value, long invoke) =>
        Add(new Operation(process, key, OpKind.Set, value, invoke, invoke + 1, OpOutcome.Indeterminate));

    public HistoryBuilder Get(int process, string? value, long invoke, long complete) =>
        Add(new Operation(process, key, OpKind.Get, value, invoke, complete, value is null ? OpOutcome.NotFound : OpOutcome.Ok));

    public HistoryBuilder Delete(int process, bool existed, long invoke, long complete) =>
        Add(new Operation(process, key, OpKind.Delete, null, invoke, complete, existed ? OpOutcome.Ok : OpOutcome.NotFound));

    public Verdict Check() => RegisterChecker.CheckKey(key, _ops).Verdict;

    private HistoryBuilder Add(Operation operation)
    {
        _ops.Add(operation);
        return this;
    }
}
