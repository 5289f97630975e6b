namespace KvnDb.Chaos;

/// <summary>
/// What each key may hold at the end: its last acknowledged value (null = deleted), or the value of
/// any later attempt whose outcome is unknown (the request failed: it may or may not have been applied).
/// </summary>
internal sealed class KeyLedger
{
    private readonly Dictionary<string, (string? Acknowledged, bool EverAcknowledged, HashSet<string?> Unknown)> _keys = [];
    private readonly Lock _lock = new();

    public void Acknowledged(string key, string? value)
    {
        lock (_lock)
            _keys[key] = (value, true, []);
    }

    public void Unknown(string key, string? value)
    {
        lock (_lock)
        {
            if (!_keys.TryGetValue(key, out var entry))
                _keys[key] = entry = (null, false, []);
            entry.Unknown.Add(value);
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

    /// <summary>True when <paramref name="actual"/> is a value the key may legitimately hold.</summary>
    public bool IsAllowed(string key, string? actual)
    {
        lock (_lock)
        {
            var entry = _keys[key];
            if (entry.Unknown.Contains(actual))
                return true;
            return entry.EverAcknowledged ? entry.Acknowledged == actual : actual is null;
        }
    }

    public bool WasAcknowledged(string key)
    {
        lock (_lock)
            return _keys[key].EverAcknowledged;
    }
}
