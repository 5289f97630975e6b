using KvnDb.Client;
using KvnDb.Protocol;

namespace KvnDb.Cli;

/// <summary>
/// The console's commands, shared by the prompt and one-shot mode. Each returns an exit code:
/// 0 done, 1 not found or error. Output goes to <paramref name="output"/>, problems to <paramref name="error"/>.
/// </summary>
internal sealed class Commands(KvnDbClient client, TextWriter output, TextWriter error)
{
    public static readonly IReadOnlyDictionary<string, string> Aliases = new Dictionary<string, string>
    {
        ["set"] = "set",
        ["get"] = "get", ["show"] = "get", ["view"] = "get", ["print"] = "get",
        ["del"] = "del", ["delete"] = "del", ["remove"] = "del",
        ["keys"] = "keys", ["getkeys"] = "keys", ["list"] = "keys",
        ["exists"] = "exists",
        ["incr"] = "incr", ["incrby"] = "incr",
        ["setnx"] = "setnx",
        ["expire"] = "expire",
        ["persist"] = "persist",
        ["ttl"] = "ttl",
        ["getv"] = "getv",
        ["cas"] = "cas",
        ["ping"] = "ping",
        ["info"] = "info",
        ["digest"] = "digest",
        ["help"] = "help", ["?"] = "help",
    };

    public const string Help = """
        Commands:
          set KEY VALUE            store VALUE under KEY (quote with '...' or "...")
          get KEY                  print the value of KEY   (aliases: show, view, print)
          del KEY                  delete KEY               (aliases: delete, remove)
          exists KEY               print whether KEY exists
          incr KEY [BY]            add BY (default 1) to KEY's integer value; print the result
          setnx KEY VALUE          store VALUE only if KEY does not exist
          expire KEY SECONDS       KEY expires SECONDS from now (decimals allowed)
          persist KEY              remove KEY's expiry
          ttl KEY                  print the time KEY has left (or "no expiry")
          getv KEY                 print KEY's value and version
          cas KEY VERSION VALUE    store VALUE only if KEY's version is still VERSION (0: absent)
          keys [PREFIX] [COLUMNS]  list keys, in COLUMNS columns (aliases: getkeys, list)
          ping                     round trip to the router
          info                     router and node status
          digest                   every node's keys, last sequence and content digest
          help                     this text
          quit                     leave (also: exit, Ctrl+D)
        """;

    public async Task<int> RunAsync(IReadOnlyList<string> words, CancellationToken cancellationToken)
    {
        if (words.Count == 0)
            return 0;
        if (!Aliases.TryGetValue(words[0].ToLowerInvariant(), out var command))
            return Fail($"unknown command '{words[0]}' (try: help)");
        var args = words.Skip(1).ToArray();
        try
        {
            return command switch
            {
                "set" when args.Length == 2 => await SetAsync(args[0], args[1], cancellationToken),
                "get" when args.Length == 1 => await GetAsync(args[0], cancellationToken),
                "del" when args.Length == 1 => await DeleteAsync(args[0], cancellationToken),
                "exists" when args.Length == 1 => await ExistsAsync(args[0], cancellationToken),
                "incr" when args.Length is 1 or 2 => await IncrementAsync(args, cancellationToken),
                "setnx" when args.Length == 2 => await SetIfAbsentAsync(args[0], args[1], cancellationToken),
                "expire" when args.Length == 2 => await ExpireAsync(args[0], args[1], cancellationToken),
                "persist" when args.Length == 1 => await PersistAsync(args[0], cancellationToken),
                "ttl" when args.Length == 1 => await TimeToLiveAsync(args[0], cancellationToken),
                "getv" when args.Length == 1 => await GetVersionedAsync(args[0], cancellationToken),
                "cas" when args.Length == 3 => await CompareAndSetAsync(args[0], args[1], args[2], cancellationToken),
                "keys" when args.Length <= 2 => await KeysAsync(args, cancellationToken),
                "ping" when args.Length == 0 => await PingAsync(cancellationToken),
                "info" when args.Length == 0 => await InfoAsync(cancellationToken),
                "digest" when args.Length == 0 => await DigestAsync(cancellationToken),
                "help" => Print(Help),
                _ => Fail($"wrong arguments for '{words[0]}' (try: help)"),
            };
        }
        catch (KvnDbException ex)
        {
            return Fail(ex.Message);
        }
    }

    private async Task<int> SetAsync(string key, string value, CancellationToken cancellationToken)
    {
        await client.SetAsync(key, value, cancellationToken: cancellationToken);
        return 0;
    }

    private async Task<int> GetAsync(string key, CancellationToken cancellationToken)
    {
        var value = await client.GetStringAsync(key, cancellationToken);
        return value is null ? Fail("not found") : Print(value);
    }

    private async Task<int> DeleteAsync(string key, CancellationToken cancellationToken) =>
        await client.DeleteAsync(key, cancellationToken: cancellationToken) ? 0 : Fail("not found");

    private async Task<int> ExistsAsync(string key, CancellationToken cancellationToken) =>
        Print(await client.ExistsAsync(key, cancellationToken) ? "yes" : "no");

    private async Task<int> IncrementAsync(string[] args, CancellationToken cancellationToken)
    {
        var by = 1L;
        if (args.Length == 2 && !long.TryParse(args[1], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out by))
            return Fail("BY must be an integer");
        return Print((await client.IncrementAsync(args[0], by, cancellationToken: cancellationToken)).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<int> SetIfAbsentAsync(string key, string value, CancellationToken cancellationToken) =>
        (await client.SetAsync(key, value, When.NotExists, cancellationToken: cancellationToken)).Written ? 0 : Fail($"not set: {key} exists");

    private async Task<int> ExpireAsync(string key, string seconds, CancellationToken cancellationToken)
    {
        if (!double.TryParse(seconds, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            return Fail("SECONDS must be a number");
        return await client.ExpireAsync(key, TimeSpan.FromSeconds(value), cancellationToken: cancellationToken) ? 0 : Fail("not found");
    }

    private async Task<int> PersistAsync(string key, CancellationToken cancellationToken) =>
        await client.PersistAsync(key, cancellationToken: cancellationToken) ? 0 : Fail("not found, or it has no expiry");

    private async Task<int> TimeToLiveAsync(string key, CancellationToken cancellationToken)
    {
        var expiry = await client.TimeToLiveAsync(key, cancellationToken);
        if (!expiry.Exists)
            return Fail("not found");
        return Print(expiry.Remaining is { } remaining
            ? $"{remaining.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s (at {expiry.ExpiresAt:O})"
            : "no expiry");
    }

    private async Task<int> GetVersionedAsync(string key, CancellationToken cancellationToken)
    {
        var value = await client.GetWithVersionAsync(key, cancellationToken);
        return value is null ? Fail("not found") : Print($"{System.Text.Encoding.UTF8.GetString(value.Value)}\tversion {value.Version}");
    }

    private async Task<int> CompareAndSetAsync(string key, string version, string value, CancellationToken cancellationToken)
    {
        if (!ulong.TryParse(version, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var expected))
            return Fail("VERSION must be a number (see getv)");
        var result = await client.CompareAndSetAsync(key, expected, value, cancellationToken: cancellationToken);
        return result.Written ? Print($"version {result.Version}") : Fail($"not set: {key} is at version {result.Version}");
    }

    /// <summary>Prompt form: <c>keys [PREFIX] [COLUMNS]</c>; a lone positive number is COLUMNS, as in the original.</summary>
    private Task<int> KeysAsync(string[] args, CancellationToken cancellationToken) => args switch
    {
        [] => ListKeysAsync("", 1, cancellationToken),
        [var one] when int.TryParse(one, out var columns) && columns > 0 => ListKeysAsync("", columns, cancellationToken),
        [var prefix] => ListKeysAsync(prefix, 1, cancellationToken),
        [var prefix, var two] when int.TryParse(two, out var columns) && columns > 0 => ListKeysAsync(prefix, columns, cancellationToken),
        _ => Task.FromResult(Fail("COLUMNS must be a positive number")),
    };

    public async Task<int> ListKeysAsync(string prefix, int columns, CancellationToken cancellationToken)
    {
        var row = new List<string>(columns);
        await foreach (var key in client.ListKeyStringsAsync(prefix, cancellationToken))
        {
            row.Add(key);
            if (row.Count == columns)
            {
                await output.WriteLineAsync(string.Join('\t', row));
                row.Clear();
            }
        }
        if (row.Count > 0)
            await output.WriteLineAsync(string.Join('\t', row));
        return 0;
    }

    private async Task<int> PingAsync(CancellationToken cancellationToken) =>
        Print($"PONG {(await client.PingAsync(cancellationToken)).TotalMilliseconds:0.###} ms");

    /// <summary>Read into the typed record, then written as the router's lines (so the text is one reader's business).</summary>
    private async Task<int> InfoAsync(CancellationToken cancellationToken)
    {
        var info = await RouterInfo.ReadAsync(client, cancellationToken);
        await output.WriteAsync(info.ToText());
        return 0;
    }

    /// <summary>
    /// One line per node; exit code 0 when all serving nodes agree and every in-sync member is serving,
    /// 2 otherwise (for scripts and health checks).
    /// </summary>
    public async Task<int> DigestAsync(CancellationToken cancellationToken)
    {
        var entries = await client.DigestAsync(cancellationToken);
        foreach (var e in entries)
            await output.WriteLineAsync($"node{e.NodeId}\t{e.State.ToString().ToLowerInvariant()}\tkeys={e.Digest.KeyCount}\tsequence={e.Digest.LastSequence}\tdigest={e.Digest.ContentHash:x16}\tmember={(e.InSync ? "yes" : "no")}\tlag={e.Lag}");
        var exit = 0;
        if (!entries.Any(e => e.State == NodeState.Serving))
        {
            await error.WriteLineAsync("error: no node is serving");
            exit = 2;
        }
        if (entries.Where(e => e.State == NodeState.Serving).Select(e => e.Digest).Distinct().Count() > 1)
        {
            await error.WriteLineAsync("error: serving replicas differ");
            exit = 2;
        }
        foreach (var e in entries.Where(e => e.InSync && e.State != NodeState.Serving))
        {
            await error.WriteLineAsync($"error: in-sync member node{e.NodeId} is {e.State.ToString().ToLowerInvariant()}");
            exit = 2;
        }
        return exit;
    }

    private int Print(string text)
    {
        output.WriteLine(text);
        return 0;
    }

    private int Fail(string message)
    {
        error.WriteLine($"error: {message}");
        return 1;
    }
}
