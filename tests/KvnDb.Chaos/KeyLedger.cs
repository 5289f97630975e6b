namespace KvnDb.Chaos;

/// <summary>
/// Every write attempted on every key, in order (each key has a single writer, so its writes never overlap),
/// with its outcome: pending, acknowledged, or unknown (the request failed: it may or may not have been
/// applied, now or later). A read of a key is judged against the window it ran in: it may return the value of
/// the last write acknowledged before the read began or of any write after it (the read may overlap them), or
/// the value of an earlier write whose outcome is unknown (a late-applied indeterminate write). Anything else is
/// a lost acknowledged write or a value the key never had.
/// </summary>
internal sealed class KeyLedger
{
    private readonly Dictionary<string, KeyHistory> _keys = [];
    private readonly Lock _lock = new();
    private int _checking;

    /// <summary>Records a write about to be sent; returns its position in the key's history.</summary>
    public int Begin(string key, string? value)
    {
        lock (_lock)
        {
            if (!_keys.TryGetValue(key, out var history))
                _keys[key] = history = new KeyHistory();
            history.Attempts.Add(new Attempt(history.Next, value));
            return history.Next++;
        }
    }

    public void Acknowledged(string key, int write)
    {
        lock (_lock)
        {
            var history = _keys[key];
            history.Find(write).Outcome = Outcome.Acknowledged;
            history.LastAcknowledged = write;
            if (_checking == 0)
                history.Attempts.RemoveAll(a => a.Write < write && a.Outcome == Outcome.Acknowledged); // no read can be judged against them any more
        }
    }

    public void Unknown(string key, int write)
    {
        lock (_lock)
            _keys[key].Find(write).Outcome = Outcome.Unknown;
    }

    public int KeyCount
    {
        get
        {
            lock (_lock)
                return _keys.Count;
        }
    }

    public IReadOnlyList<string> Keys
    {
        get
        {
            lock (_lock)
                return [.. _keys.Keys];
        }
    }

    /// <summary>While a check runs, superseded writes are kept: a read that began before their successor was acknowledged may still return them.</summary>
    public IDisposable BeginCheck()
    {
        lock (_lock)
            _checking++;
        return new CheckScope(this);
    }

    /// <summary>Taken just before a read of <paramref name="keys"/> is sent: the last acknowledged write of each (-1: none).</summary>
    public int[] Marks(IReadOnlyList<string> keys)
    {
        lock (_lock)
            return [.. keys.Select(k => _keys[k].LastAcknowledged)];
    }

    /// <summary>Judges a read of <paramref name="key"/> that began at <paramref name="mark"/> and returned <paramref name="actual"/>.</summary>
    public Verdict Judge(string key, int mark, string? actual)
    {
        lock (_lock)
        {
            var history = _keys[key];
            if (mark < 0 && actual is null)
                return Verdict.Allowed; // never acknowledged before the read: absent is the initial state
            if (history.Attempts.Any(a => a.Write >= mark && a.Value == actual))
                return Verdict.Allowed;
            if (history.Attempts.Any(a => a.Write < mark && a.Outcome == Outcome.Unknown && a.Value == actual))
                return Verdict.LateIndeterminate;
            return Verdict.Lost;
        }
    }

    /// <summary>What the key should hold, for the failure message.</summary>
    public string Describe(string key, int mark)
    {
        lock (_lock)
        {
            var history = _keys[key];
            var acknowledged = history.Attempts.FirstOrDefault(a => a.Write == mark);
            var expected = mark < 0 ? "never acknowledged" : $"acknowledged write #{mark} = {Show(acknowledged?.Value)}";
            var later = history.Attempts.Where(a => a.Write > mark).Select(a => $"#{a.Write} {Show(a.Value)} {a.Outcome.ToString().ToLowerInvariant()}");
            var unknown = history.Attempts.Where(a => a.Write < mark && a.Outcome == Outcome.Unknown).Select(a => $"#{a.Write} {Show(a.Value)}");
            return $"{expected}; later writes [{string.Join(", ", later)}]; earlier unknown [{string.Join(", ", unknown)}]";
        }
    }

    public static string Show(string? value) => value ?? "(absent)";

    private void EndCheck()
    {
        lock (_lock)
            _checking--;
    }

    private sealed class KeyHistory
    {
        public List<Attempt> Attempts { get; } = [];

        public int Next { get; set; }

        public int LastAcknowledged { get; set; } = -1;

        public Attempt Find(int write) => Attempts.Find(a => a.Write == write) ?? throw new InvalidOperationException($"write #{write} is not in the ledger");
    }

    private sealed class Attempt(int write, string? value)
    {
        public int Write { get; } = write;

        public string? Value { get; } = value;

        public Outcome Outcome { get; set; }
    }

    private sealed class CheckScope(KeyLedger ledger) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                ledger.EndCheck();
        }
    }

    private enum Outcome
    {
        Pending,
        Acknowledged,
        Unknown,
    }
}
