using System.Buffers;
using BenchmarkDotNet.Attributes;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.Benchmarks;

/// <summary>
/// A full SCAN as a node answers it: every ScanKeys page from position 0 until the next position is 0, over 10k and
/// 100k keys at COUNT 1 and 10 (the node's side of Redis SCAN; the network round trip per page comes on top). The
/// page cost is O(COUNT), so a full scan is O(keys) whatever COUNT is, and writing pages allocates nothing.
/// </summary>
public class ScanBenchmarks
{
    private const long Now = 1_900_000_000_000;
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private NodeStore _store = null!;

    [Params(10_000, 100_000)]
    public int Keys { get; set; }

    [Params(1, 10)]
    public int Count { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _store = new NodeStore(new RamStorageEngine());
        var value = new byte[3];
        for (var i = 0; i < Keys; i++)
            _store.Write(System.Text.Encoding.ASCII.GetBytes($"key:{i:D12}"), value, 0, (ulong)i + 1);
    }

    /// <summary>Returns the keys seen (so nothing is optimised away).</summary>
    [Benchmark]
    public long FullScan()
    {
        var seen = 0L;
        var position = 0UL;
        do
        {
            _output.ResetWrittenCount();
            _store.Keys.WritePage(_output, 1, 0, position, (uint)Count, default, _store.Expiry, Now);
            ScanKeysReply.TryRead(_output.WrittenSpan[ProtocolLimits.HeaderSize..], out var page);
            seen += page.Count;
            position = page.Next;
        }
        while (position != 0);
        return seen;
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _store.Engine.DisposeAsync();
}
