using BenchmarkDotNet.Attributes;
using KvnDb.Node.Storage;

namespace KvnDb.Benchmarks;

/// <summary>
/// Node storage engines in process: upserts and reads over a keyspace of 10k keys. The engines
/// measured are exactly those <see cref="StorageEngineFactory.Names"/> lists, so a new engine is
/// measured as soon as it is registered there.
/// </summary>
public class EngineBenchmarks
{
    private const int Keys = 10_000;
    // Small enough that one invocation of the slow dir engine (a file write per op) fits an iteration.
    private const int OperationsPerInvoke = 100;
    private readonly byte[] _value = new byte[100];
    private byte[][] _keys = [];
    private IStorageEngine? _engine;
    private string? _directory;
    private ulong _sequence;
    private int _next;

    public static IEnumerable<string> EngineNames => StorageEngineFactory.Names;

    [ParamsSource(nameof(EngineNames))]
    public string Engine { get; set; } = "ram";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), "kvndb-bench-engine-" + Guid.NewGuid().ToString("N"));
        _engine = StorageEngineFactory.Create(new StorageOptions { Engine = Engine, DataDirectory = _directory });
        _keys = Enumerable.Range(0, Keys).Select(i => System.Text.Encoding.ASCII.GetBytes($"key:{i:D12}")).ToArray();
        foreach (var key in _keys)
            _engine.Set(key, _value, ++_sequence);
        await _engine.FlushAsync(CancellationToken.None);
    }

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "VSTHRD002:Avoid problematic synchronous waits", Justification = "The batch's flush is part of what is measured, inline, as it was; BenchmarkDotNet has no synchronization context")]
    public void Upsert()
    {
        var engine = _engine!;
        for (var i = 0; i < OperationsPerInvoke; i++)
            engine.Set(NextKey(), _value, ++_sequence);
        engine.FlushAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public long Read()
    {
        var engine = _engine!;
        var total = 0L;
        for (var i = 0; i < OperationsPerInvoke; i++)
        {
            if (engine.TryGet(NextKey(), out var stored))
            {
                total += stored.Value.Length;
                stored.Dispose();
            }
        }
        return total;
    }

    private byte[] NextKey()
    {
        var key = _keys[_next];
        _next = (_next + 7919) % Keys; // a prime stride: every key, no locality from one op to the next
        return key;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_engine is not null)
            await _engine.DisposeAsync();
        if (_directory is not null && Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }
}
