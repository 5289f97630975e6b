// Count keys and bytes by prefix.
//
//   kvndb-script samples/count.csx --port 54565 -- [--prefix P] [--separator :] [--depth 1] [--keys-only yes]
//
// Groups every key (under --prefix, if given) by its first --depth segments split at --separator, so
// "user:42:name" counts under "user:" at depth 1 and "user:42:" at depth 2; keys with fewer separators
// count under "(other)". Prints keys, key bytes and value bytes per group, largest first, and a total.
// Values are read in multi-gets of 500 to weigh them; --keys-only yes skips that.
#nullable enable
#load "include/options.csx"
#load "include/progress.csx"

var options = new SampleArgs(Args);
var prefix = options.Get("prefix", "");
var separator = options.Get("separator", ":");
var depth = options.GetInt("depth", 1);
var keysOnly = options.Get("keys-only", "no") is "yes" or "true";
if (separator.Length == 0)
    throw new ArgumentException("--separator must not be empty");

var groups = new Dictionary<string, (long Keys, long KeyBytes, long ValueBytes)>(StringComparer.Ordinal);
var pending = new List<(string Group, ReadOnlyMemory<byte> Key)>(500);
var progress = new ProgressBar("count", total: 0);
long seen = 0;

string GroupOf(string key)
{
    var end = -1;
    for (var d = 0; d < depth; d++)
    {
        end = key.IndexOf(separator, end + 1, StringComparison.Ordinal);
        if (end < 0)
            return "(other)";
        end += separator.Length - 1;
    }
    return key[..(end + 1)];
}

async Task WeighAsync()
{
    if (pending.Count == 0)
        return;
    var values = keysOnly ? null : await Kv.MultiGetAsync(pending.Select(p => p.Key).ToArray(), Cancellation);
    for (var i = 0; i < pending.Count; i++)
    {
        if (values is not null && values[i] is null)
            continue; // deleted meanwhile
        var (group, key) = pending[i];
        var totals = groups.GetValueOrDefault(group);
        groups[group] = (totals.Keys + 1, totals.KeyBytes + key.Length, totals.ValueBytes + (values?[i]?.Length ?? 0));
    }
    pending.Clear();
    progress.Report(0, seen);
}

await foreach (var key in Kv.ListKeysAsync(Encoding.UTF8.GetBytes(prefix), Cancellation))
{
    seen++;
    pending.Add((GroupOf(Encoding.UTF8.GetString(key)), key));
    if (pending.Count >= 500)
        await WeighAsync();
}
await WeighAsync();
progress.Done(seen);

var width = Math.Max(6, groups.Keys.Select(g => g.Length).DefaultIfEmpty(0).Max());
Console.WriteLine($"{"prefix".PadRight(width)}  {"keys",12}  {"key bytes",14}  {"value bytes",14}");
foreach (var (group, totals) in groups.OrderByDescending(g => g.Value.Keys).ThenBy(g => g.Key, StringComparer.Ordinal))
    Console.WriteLine($"{group.PadRight(width)}  {totals.Keys,12:N0}  {totals.KeyBytes,14:N0}  {(keysOnly ? "-" : totals.ValueBytes.ToString("N0")),14}");
Console.WriteLine($"{"total".PadRight(width)}  {groups.Values.Sum(t => t.Keys),12:N0}  {groups.Values.Sum(t => t.KeyBytes),14:N0}  {(keysOnly ? "-" : groups.Values.Sum(t => t.ValueBytes).ToString("N0")),14}");
