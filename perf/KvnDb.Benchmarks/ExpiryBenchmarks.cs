using BenchmarkDotNet.Attributes;
using KvnDb.Node;
using KvnDb.Node.Storage;

namespace KvnDb.Benchmarks;

/// <summary>
/// What expiry bookkeeping adds to a node's write: the same overwrites over 10k keys through the node's store
/// (ram engine, so the engine's own cost is small and the index's shows), without an expiry, and with a new
/// expiry at every write (the expiry index moves the key in its time order).
/// </summary>
public class ExpiryBenchmarks
{
    private const int Keys = 10_000;
    private const int OperationsPerInvoke = 1000;
    private const long Now = 1_900_000_000_000;
    private readonly byte[] _value = new byte[100];
    private byte[][] _keys = [];
    private NodeStore _store = null!;
    private ulong _sequence;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _store = new NodeStore(new RamStorageEngine());
        _keys = Enumerable.Range(0, Keys).Select(i => System.Text.Encoding.ASCII.GetBytes($"key:{i:D12}")).ToArray();
        foreach (var key in _keys)
            _store.Write(key, _value, Now + 3_600_000, ++_sequence);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OperationsPerInvoke)]
    public void SetWithoutExpiry()
    {
        for (var i = 0; i < OperationsPerInvoke; i++)
            _store.Write(NextKey(), _value, 0, ++_sequence);
    }

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public void SetWithExpiry()
    {
        for (var i = 0; i < OperationsPerInvoke; i++)
            _store.Write(NextKey(), _value, Now + 3_600_000 + (long)_sequence, ++_sequence);
    }

    private byte[] NextKey()
    {
        var key = _keys[_next];
        _next = (_next + 7919) % Keys;
        return key;
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _store.Engine.DisposeAsync();
}
