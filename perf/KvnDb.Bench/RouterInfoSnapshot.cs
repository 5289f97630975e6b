using System.Globalization;

namespace KvnDb.Bench;

/// <summary>The router counters that show allocation on its hot path, parsed from its <c>info</c> text.</summary>
internal readonly record struct RouterInfoSnapshot(long Reads, long Writes, long Gen0, long Gen1, long Gen2, long AllocatedBytes)
{
    public static RouterInfoSnapshot Parse(string info)
    {
        var values = info.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 2, StringSplitOptions.TrimEntries))
            .Where(parts => parts.Length == 2)
            .GroupBy(parts => parts[0])
            .ToDictionary(group => group.Key, group => group.First()[1]);
        long Number(string name) =>
            values.TryGetValue(name, out var text) && long.TryParse(text, CultureInfo.InvariantCulture, out var n) ? n : -1;
        var gc = values.TryGetValue("gc_collections", out var collections) ? collections.Split('/') : [];
        long Gc(int generation) =>
            generation < gc.Length && long.TryParse(gc[generation], CultureInfo.InvariantCulture, out var n) ? n : -1;
        return new RouterInfoSnapshot(Number("reads"), Number("writes"), Gc(0), Gc(1), Gc(2), Number("allocated_bytes"));
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
