using System.Globalization;

using KvnDb.Client;

namespace KvnDb.Bench;

/// <summary>The router counters that show allocation on its hot path, parsed from its <c>info</c> text.</summary>
internal readonly record struct RouterInfoSnapshot(long Reads, long Writes, long Gen0, long Gen1, long Gen2, long AllocatedBytes)
{
    public static RouterInfoSnapshot Parse(string info)
    {
        var parsed = RouterInfo.Parse(info);
        var (gen0, gen1, gen2) = parsed.GcCollections;
        return new RouterInfoSnapshot(parsed.Reads, parsed.Writes, gen0, gen1, gen2, parsed.AllocatedBytes);
    }

    public string DescribeSince(RouterInfoSnapshot before)
    {
        var requests = Reads + Writes - before.Reads - before.Writes;
        var allocated = AllocatedBytes - before.AllocatedBytes;
        var perRequest = requests > 0 ? (double)allocated / requests : 0;
        return string.Create(CultureInfo.InvariantCulture,
            $"router: {requests} requests, GC gen0/gen1/gen2 +{Gen0 - before.Gen0}/+{Gen1 - before.Gen1}/+{Gen2 - before.Gen2}, allocated {allocated} bytes ({perRequest:F1} B/request)");
    }
}
