using System.Globalization;
using System.Diagnostics;
using System.Text;

namespace KvnDb.FaultTests.Linearizability;

/// <summary>Result of checking one key.</summary>
public enum Verdict
{
    Linearizable,
    Violation,

    /// <summary>The search ran out of its step budget: neither proven nor refuted.</summary>
    Inconclusive,
}

public sealed record KeyVerdict(string Key, Verdict Verdict, int Operations, string? Explanation);

public sealed record CheckResult(IReadOnlyList<KeyVerdict> Keys)
{
    public IReadOnlyList<KeyVerdict> Violations => [.. Keys.Where(k => k.Verdict == Verdict.Violation)];

    public IReadOnlyList<KeyVerdict> Inconclusive => [.. Keys.Where(k => k.Verdict == Verdict.Inconclusive)];
}

/// <summary>
/// Checks a history key by key (linearizability is local, so a key is a register on its own) with the
/// Wing–Gong search as improved by Lowe: walk the time-ordered list of calls and returns, linearize
/// a pending call when the register allows its result, backtrack at a return that nothing
/// linearized, and memoise (linearized set, register value) pairs already explored. Every key
/// starts absent. Indeterminate writes have no return: they may take effect at any point after their
/// call, or never.
/// </summary>
public static class RegisterChecker
{
    public const long DefaultStepBudget = 5_000_000;

    public static CheckResult Check(IEnumerable<Operation> history, long stepBudget = DefaultStepBudget) =>
        new([.. history.GroupBy(o => o.Key, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => CheckKey(g.Key, [.. g], stepBudget))]);

    public static KeyVerdict CheckKey(string key, IReadOnlyList<Operation> operations, long stepBudget = DefaultStepBudget)
    {
        // Reads that failed tell nothing; writes that certainly failed did nothing.
        var ops = operations.Where(o => o.Outcome != OpOutcome.Failed && !(o.Kind == OpKind.Get && o.Outcome == OpOutcome.Indeterminate)).ToList();
        return new Search(key, [.. WithoutUnobservedUnknownSets(ops)]).Run(stepBudget);
    }

    /// <summary>
    /// Drops the sets of unknown outcome whose value nothing observed: the history is linearizable
    /// with them exactly when it is without them (say they never happened). In a linearization that
    /// applies such a set, the next operation cannot be a read (it would return the unseen value) nor
    /// a delete that found nothing, so it is a write that hides it, or a delete that found a key:
    /// only that last case can depend on it, so a set is kept when a successful delete may follow it.
    /// Without this, every timed-out write multiplies the states of the search.
    /// </summary>
    private static IEnumerable<Operation> WithoutUnobservedUnknownSets(List<Operation> ops)
    {
        var observed = ops.Where(o => o.Kind == OpKind.Get && o.Outcome == OpOutcome.Ok).Select(o => o.Value!).ToHashSet(StringComparer.Ordinal);
        var lastDeleteFound = ops.Where(o => o.Kind == OpKind.Delete && o.Outcome == OpOutcome.Ok).Select(o => o.Complete).DefaultIfEmpty(long.MinValue).Max();
        return ops.Where(o => !(o.Kind == OpKind.Set && o.Outcome == OpOutcome.Indeterminate && !observed.Contains(o.Value!) && lastDeleteFound < o.Invoke));
    }

    private sealed class Search
    {
        private const int Head = 0;

        private readonly string _key;
        private readonly Operation[] _ops;
        private readonly int[] _value;       // per op: register value id it writes or reads (0 = absent)
        private readonly long[] _entryTime;  // entries 1..2n; entry 0 is the list head
        private readonly int[] _entryOp;
        private readonly bool[] _entryIsCall;
        private readonly int[] _match;       // call entry <-> return entry
        private readonly int[] _next;
        private readonly int[] _prev;

        public Search(string key, Operation[] ops)
        {
            _key = key;
            _ops = ops;
            var values = new Dictionary<string, int>(StringComparer.Ordinal);
            _value = new int[ops.Length];
            for (var i = 0; i < ops.Length; i++)
            {
                if (ops[i].Value is { } v && ops[i].Kind != OpKind.Delete)
                {
                    if (!values.TryGetValue(v, out var id))
                        values.Add(v, id = values.Count + 1);
                    _value[i] = id;
                }
            }

            var entries = new List<(long Time, int Order, int Op, bool IsCall)>(ops.Length * 2);
            for (var i = 0; i < ops.Length; i++)
            {
                var returnTime = ops[i].IsWrite && ops[i].Outcome == OpOutcome.Indeterminate ? long.MaxValue : Math.Max(ops[i].Complete, ops[i].Invoke);
                // At equal times calls come first: touching intervals count as concurrent (the lenient reading).
                entries.Add((ops[i].Invoke, 0, i, true));
                entries.Add((returnTime, 1, i, false));
            }
            entries.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Order != b.Order ? a.Order.CompareTo(b.Order) : a.Op.CompareTo(b.Op));

            var count = entries.Count + 1;
            _entryTime = new long[count];
            _entryOp = new int[count];
            _entryIsCall = new bool[count];
            _match = new int[count];
            _next = new int[count];
            _prev = new int[count];
            var callOf = new int[ops.Length];
            for (var e = 1; e < count; e++)
            {
                var (time, _, op, isCall) = entries[e - 1];
                _entryTime[e] = time;
                _entryOp[e] = op;
                _entryIsCall[e] = isCall;
                if (isCall)
                {
                    callOf[op] = e;
                }
                else
                {
                    _match[e] = callOf[op];
                    _match[callOf[op]] = e;
                }
                _prev[e] = e - 1;
                _next[e - 1] = e;
            }
            _next[count - 1] = -1;
        }

        public KeyVerdict Run(long stepBudget)
        {
            var linearized = new ulong[(_ops.Length + 63) / 64];
            var cache = new HashSet<CacheKey>();
            var stack = new Stack<(int CallEntry, int State)>();
            var state = 0;
            var entry = _next[Head];
            long steps = 0;
            var deepest = -1;
            var blocking = -1;
            var blockingState = 0;

            while (_next[Head] != -1)
            {
                if (++steps > stepBudget)
                    return new KeyVerdict(_key, Verdict.Inconclusive, _ops.Length, $"no answer within {stepBudget} steps");
                var op = _entryOp[entry];
                if (_entryIsCall[entry])
                {
                    if (TryApply(state, op, out var next))
                    {
                        linearized[op >> 6] |= 1UL << op;
                        if (cache.Add(new CacheKey(linearized, next)))
                        {
                            stack.Push((entry, state));
                            state = next;
                            Lift(entry);
                            entry = _next[Head];
                            continue;
                        }
                        linearized[op >> 6] &= ~(1UL << op);
                    }
                    entry = _next[entry];
                    continue;
                }

                // A return whose operation nothing linearized yet.
                if (_entryTime[entry] == long.MaxValue)
                    return new KeyVerdict(_key, Verdict.Linearizable, _ops.Length, null); // only optional writes remain
                if (stack.Count > deepest)
                {
                    deepest = stack.Count;
                    blocking = op;
                    blockingState = state;
                }
                if (stack.Count == 0)
                    return new KeyVerdict(_key, Verdict.Violation, _ops.Length, Explain(deepest, blocking, blockingState));
                var (callEntry, previous) = stack.Pop();
                var undone = _entryOp[callEntry];
                linearized[undone >> 6] &= ~(1UL << undone);
                state = previous;
                Unlift(callEntry);
                entry = _next[callEntry];
            }
            return new KeyVerdict(_key, Verdict.Linearizable, _ops.Length, null);
        }

        private bool TryApply(int state, int op, out int next)
        {
            var o = _ops[op];
            switch (o.Kind)
            {
                case OpKind.Set:
                    next = _value[op];
                    return true;
                case OpKind.Delete:
                    next = 0;
                    return o.Outcome switch
                    {
                        OpOutcome.Ok => state != 0,
                        OpOutcome.NotFound => state == 0,
                        _ => true,
                    };
                default:
                    next = state;
                    return o.Outcome == OpOutcome.Ok ? state == _value[op] && state != 0 : state == 0;
            }
        }

        private void Lift(int call)
        {
            Remove(call);
            Remove(_match[call]);
        }

        private void Unlift(int call)
        {
            Restore(_match[call]);
            Restore(call);
        }

        private void Remove(int e)
        {
            _next[_prev[e]] = _next[e];
            if (_next[e] != -1)
                _prev[_next[e]] = _prev[e];
        }

        private void Restore(int e)
        {
            _next[_prev[e]] = e;
            if (_next[e] != -1)
                _prev[_next[e]] = e;
        }

        private string Explain(int linearizedCount, int blocking, int state)
        {
            var origin = _ops.Min(o => o.Invoke);
            string Ms(long t) => t == long.MaxValue ? "?" : $"{Stopwatch.GetElapsedTime(origin, t).TotalMilliseconds:F1}";
            string Describe(Operation o) => $"{o} [{Ms(o.Invoke)} ms, {Ms(o.IsWrite && o.Outcome == OpOutcome.Indeterminate ? long.MaxValue : o.Complete)} ms]";
            var writer = Enumerable.Range(0, _ops.Length).FirstOrDefault(i => _ops[i].Kind == OpKind.Set && _value[i] == state, -1);
            var stateText = state == 0 ? "absent" : writer >= 0 ? _ops[writer].Value : "?";
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"key {_key}: {Describe(_ops[blocking])} cannot be linearized ");
            text.Append(CultureInfo.InvariantCulture, $"(best attempt linearized {linearizedCount} operations, register then {stateText}); nearby:");
            var b = _ops[blocking];
            foreach (var o in _ops.Where(o => o.IsWrite && o.Invoke <= b.Complete).OrderByDescending(o => o.Invoke).Take(6).Reverse())
                text.Append("\n  ").Append(Describe(o));
            return text.ToString();
        }
    }

    /// <summary>A memoised search state: which operations are linearized and what the register holds.</summary>
    private readonly struct CacheKey : IEquatable<CacheKey>
    {
        private readonly ulong[] _bits;
        private readonly int _state;
        private readonly int _hash;

        public CacheKey(ulong[] bits, int state)
        {
            _bits = (ulong[])bits.Clone();
            _state = state;
            var hash = new HashCode();
            hash.Add(state);
            foreach (var word in _bits)
                hash.Add(word);
            _hash = hash.ToHashCode();
        }

        public bool Equals(CacheKey other) => _hash == other._hash && _state == other._state && _bits.AsSpan().SequenceEqual(other._bits);

        public override bool Equals(object? obj) => obj is CacheKey other && Equals(other);

        public override int GetHashCode() => _hash;
    }
}
