using System.Globalization;
using KvnDb.Client;

namespace KvnDb.Cli;

/// <summary>
/// <c>--stat</c>, as redis-cli's: a line per interval from the router's <c>info</c>: operations per
/// second (reads, writes), keys (the most any node reports, when nodes report it), clients, nodes
/// serving of those connected, in-sync members missing, and the worst node lag (writes not acknowledged,
/// age of the oldest). A header every 20 lines. Runs until Ctrl+C.
/// </summary>
internal sealed class StatMode(KvnDbClient client, ConsoleOutput output, TimeSpan interval)
{
    private const int HeaderEvery = 20;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        RouterInfo? previous = null;
        var previousAt = 0L;
        var lines = 0;
        try
        {
            while (true)
            {
                var info = await RouterInfo.ReadAsync(client, cancellationToken).ConfigureAwait(false);
                var now = System.Diagnostics.Stopwatch.GetTimestamp();
                if (lines++ % HeaderEvery == 0)
                    output.WriteLine(Header);
                output.WriteLine(Line(info, previous, System.Diagnostics.Stopwatch.GetElapsedTime(previousAt, now)));
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                (previous, previousAt) = (info, now);
                await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
    }

    internal const string Header = "------- time ------- --- ops/s --- ------ keys ---- clients -- nodes --- missing --- lag: writes / oldest ms";

    internal static string Line(RouterInfo info, RouterInfo? previous, TimeSpan elapsed)
    {
        string Rate(long now, long before) => previous is null || elapsed <= TimeSpan.Zero
            ? "-" : ((now - before) / elapsed.TotalSeconds).ToString("0", CultureInfo.InvariantCulture);
        var reads = Rate(info.Reads, previous?.Reads ?? 0);
        var writes = Rate(info.Writes, previous?.Writes ?? 0);
        var keys = info.Nodes.Select(n => n.Fields.TryGetValue("keys", out var k) && long.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1).DefaultIfEmpty(-1).Max();
        var lag = info.Nodes.Select(n => n.Fields.TryGetValue("lag", out var l) && long.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0).DefaultIfEmpty(0).Max();
        var oldest = info.Nodes.Select(n => n.Fields.TryGetValue("oldest_unacked_ms", out var o) && long.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0).DefaultIfEmpty(0).Max();
        return string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.Now:yyyy-MM-dd HH:mm:ss} {"r " + reads,7} {"w " + writes,7} {(keys < 0 ? "-" : keys.ToString(CultureInfo.InvariantCulture)),12} {info.Clients,7} {info.NodesServing + "/" + info.NodeCount + " serving",13} {info.InSyncMissing.Count,9} {lag,8} / {oldest}");
    }
}
