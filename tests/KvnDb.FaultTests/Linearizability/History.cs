using System.Diagnostics;

namespace KvnDb.FaultTests.Linearizability;

/// <summary>A thread-safe record of every operation of a run, in completion order.</summary>
public sealed class History
{
    private readonly Lock _lock = new();
    private readonly List<Operation> _operations = [];

    /// <summary>The clock of the history (monotonic; shared with <see cref="Stopwatch"/>).</summary>
    public static long Now => Stopwatch.GetTimestamp();

    public void Add(Operation operation)
    {
        lock (_lock)
            _operations.Add(operation);
    }

    public int Count
    {
        get
        {
            lock (_lock)
                return _operations.Count;
        }
    }

    public IReadOnlyList<Operation> Snapshot()
    {
        lock (_lock)
            return [.. _operations];
    }
}
