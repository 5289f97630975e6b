using System.Globalization;
using System.Text;
using KvnDb.Client;
using KvnDb.Protocol;

namespace KvnDb.Cli;

/// <summary>
/// The console's commands, shared by the prompt and one-shot mode: each turns its words (bytes, so keys
/// and values are binary-safe) into a <see cref="ConsoleReply"/>; a failure from the router is an error
/// reply, never an exception. A key listing prints as it streams.
/// </summary>
internal sealed class Commands(KvnDbClient client, ReplyPrinter printer, KeyPager? pager = null)
{
    public async Task<ConsoleReply> RunAsync(IReadOnlyList<byte[]> words, CancellationToken cancellationToken)
    {
        if (words.Count == 0)
            return new ConsoleReply.Printed();
        var name = Text(words[0]);
        if (CommandTable.Find(name) is not { } command)
            return new ConsoleReply.Error($"unknown command '{name}' (try: help)");
        var args = words.Skip(1).ToArray();
        if (!command.Accepts(args.Length))
            return new ConsoleReply.Error($"wrong number of arguments for '{command.Name}': {command.Usage}");
        try
        {
            return await RunAsync(command, args, cancellationToken).ConfigureAwait(false);
        }
        catch (KvnDbException ex)
        {
            return new ConsoleReply.Error(ex.Message);
        }
    }

    private async Task<ConsoleReply> RunAsync(CommandSpec command, byte[][] args, CancellationToken cancellationToken) => command.Name switch
    {
        "get" => ConsoleReply.Of(await client.GetAsync(args[0], cancellationToken).ConfigureAwait(false)),
        "set" => await SetAsync(args, cancellationToken).ConfigureAwait(false),
        "setnx" => ConsoleReply.Of((await client.SetAsync(args[0], args[1], When.NotExists, cancellationToken: cancellationToken).ConfigureAwait(false)).Written),
        "getdel" => ConsoleReply.Of(await client.GetDeleteAsync(args[0], cancellationToken: cancellationToken).ConfigureAwait(false)),
        "del" => await CountAsync(args, (key, ct) => client.DeleteAsync(key, cancellationToken: ct), cancellationToken).ConfigureAwait(false),
        "exists" => await CountAsync(args, (key, ct) => client.ExistsAsync(key, ct), cancellationToken).ConfigureAwait(false),
        "mget" => new ConsoleReply.Multi([.. (await client.MultiGetAsync([.. args.Select(a => (ReadOnlyMemory<byte>)a)], cancellationToken).ConfigureAwait(false)).Select(ConsoleReply.Of)]),
        "mset" => await MultiSetAsync(args, cancellationToken).ConfigureAwait(false),
        "incr" or "incrby" or "decr" or "decrby" => await IncrementAsync(command.Name, args, cancellationToken).ConfigureAwait(false),
        "incrbyfloat" => Double(args[1]) is { } by
            ? new ConsoleReply.Bulk(Encoding.UTF8.GetBytes((await client.IncrementFloatAsync(args[0], by, cancellationToken: cancellationToken).ConfigureAwait(false)).ToString("R", CultureInfo.InvariantCulture)))
            : new ConsoleReply.Error("BY must be a number"),
        "append" => new ConsoleReply.Integer(await client.AppendAsync(args[0], args[1], cancellationToken: cancellationToken).ConfigureAwait(false)),
        "setrange" => Integer(args[1]) is { } offset and >= 0
            ? new ConsoleReply.Integer(await client.SetRangeAsync(args[0], offset, args[2], cancellationToken: cancellationToken).ConfigureAwait(false))
            : new ConsoleReply.Error("OFFSET must be a non-negative integer"),
        "expire" or "pexpire" => Duration(args[1], command.Name == "expire" ? 1000 : 1) is { } ttl
            ? ConsoleReply.Of(await client.ExpireAsync(args[0], ttl, cancellationToken: cancellationToken).ConfigureAwait(false))
            : new ConsoleReply.Error($"{(command.Name == "expire" ? "SECONDS" : "MILLISECONDS")} must be a number"),
        "persist" => ConsoleReply.Of(await client.PersistAsync(args[0], cancellationToken: cancellationToken).ConfigureAwait(false)),
        "ttl" or "pttl" => await TimeToLiveAsync(args[0], command.Name == "ttl", cancellationToken).ConfigureAwait(false),
        "getv" => await client.GetWithVersionAsync(args[0], cancellationToken).ConfigureAwait(false) is { } versioned
            ? new ConsoleReply.Multi([new ConsoleReply.Bulk(versioned.Value), new ConsoleReply.Integer((long)versioned.Version)])
            : ConsoleReply.NoValue,
        "cas" => await CompareAndSetAsync(args, cancellationToken).ConfigureAwait(false),
        "keys" => await new KeyListing(client, printer, pager).RunAsync(args.Length == 0 ? [] : args[0], cancellationToken).ConfigureAwait(false),
        "dbsize" => new ConsoleReply.Integer(await KeyListing.CountAsync(client, cancellationToken).ConfigureAwait(false)),
        "ping" => await PingAsync(cancellationToken).ConfigureAwait(false),
        "info" => new ConsoleReply.Text(await client.InfoAsync(cancellationToken).ConfigureAwait(false)),
        "digest" => await DigestReport.BuildAsync(client, cancellationToken).ConfigureAwait(false),
        "slots" => args.Length == 0
            ? await SlotsReport.BuildAsync(client, cancellationToken).ConfigureAwait(false)
            : await SlotsReport.MoveAsync(client, [.. args.Select(Text)], cancellationToken).ConfigureAwait(false),
        "groups" => args.Length == 0
            ? await SlotsReport.BuildAsync(client, cancellationToken).ConfigureAwait(false)
            : await SlotsReport.AddGroupAsync(client, [.. args.Select(Text)], cancellationToken).ConfigureAwait(false),
        "monitor" => await new MonitorMode(client, printer).RunAsync(cancellationToken).ConfigureAwait(false),
        "help" => args.Length == 0 ? new ConsoleReply.Text(CommandTable.Help())
            : CommandTable.Find(Text(args[0])) is { } about ? new ConsoleReply.Text($"{about.Usage}\n  {about.Summary}\n")
            : new ConsoleReply.Error($"unknown command '{Text(args[0])}'"),
        _ when command.PromptOnly => new ConsoleReply.Error($"'{command.Name}' works only at the prompt"),
        _ => new ConsoleReply.Error($"'{command.Name}' is not implemented"),
    };

    private async Task<ConsoleReply> SetAsync(byte[][] args, CancellationToken cancellationToken)
    {
        if (SetArguments.TryParse(args, out var set, out var problem) is false)
            return new ConsoleReply.Error(problem!);
        if (set.IsPlain)
        {
            await client.SetAsync(args[0], args[1], cancellationToken: cancellationToken).ConfigureAwait(false);
            return ConsoleReply.Ok;
        }
        var result = await client.SetAsync(args[0], args[1], set.When, set.Expiry, set.ReturnOldValue, set.KeepTtl, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (set.ReturnOldValue)
            return ConsoleReply.Of(result.OldValue);
        return result.Written ? ConsoleReply.Ok : ConsoleReply.NoValue;
    }

    private static async Task<ConsoleReply> CountAsync(byte[][] keys, Func<byte[], CancellationToken, ValueTask<bool>> action, CancellationToken cancellationToken)
    {
        var count = 0;
        foreach (var key in keys)
        {
            if (await action(key, cancellationToken).ConfigureAwait(false))
                count++;
        }
        return new ConsoleReply.Integer(count);
    }

    private async Task<ConsoleReply> MultiSetAsync(byte[][] args, CancellationToken cancellationToken)
    {
        if (args.Length % 2 != 0)
            return new ConsoleReply.Error("mset takes KEY VALUE pairs");
        var pairs = args.Chunk(2).Select(p => KeyValuePair.Create((ReadOnlyMemory<byte>)p[0], (ReadOnlyMemory<byte>)p[1])).ToArray();
        await client.MultiSetAsync(pairs, cancellationToken: cancellationToken).ConfigureAwait(false);
        return ConsoleReply.Ok;
    }

    private async Task<ConsoleReply> IncrementAsync(string name, byte[][] args, CancellationToken cancellationToken)
    {
        var by = 1L;
        if (args.Length == 2)
        {
            if (Integer(args[1]) is not { } parsed)
                return new ConsoleReply.Error("BY must be an integer");
            by = parsed;
        }
        if (name is "decr" or "decrby")
            by = -by;
        return new ConsoleReply.Integer(await client.IncrementAsync(args[0], by, cancellationToken: cancellationToken).ConfigureAwait(false));
    }

    private async Task<ConsoleReply> TimeToLiveAsync(byte[] key, bool seconds, CancellationToken cancellationToken)
    {
        var expiry = await client.TimeToLiveAsync(key, cancellationToken).ConfigureAwait(false);
        if (!expiry.Exists)
            return new ConsoleReply.Integer(-2);
        if (expiry.Remaining is not { } remaining)
            return new ConsoleReply.Integer(-1);
        // As Redis: TTL rounds to the nearest second, PTTL is exact to the millisecond.
        var ms = (long)Math.Max(0, remaining.TotalMilliseconds);
        return new ConsoleReply.Integer(seconds ? (ms + 500) / 1000 : ms);
    }

    private async Task<ConsoleReply> CompareAndSetAsync(byte[][] args, CancellationToken cancellationToken)
    {
        if (!ulong.TryParse(Text(args[1]), NumberStyles.None, CultureInfo.InvariantCulture, out var expected))
            return new ConsoleReply.Error("VERSION must be a number (see getv)");
        var result = await client.CompareAndSetAsync(args[0], expected, args[2], cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.Written
            ? new ConsoleReply.Integer((long)result.Version)
            : new ConsoleReply.Error($"CONFLICT not set: the key is at version {result.Version}");
    }

    private async Task<ConsoleReply> PingAsync(CancellationToken cancellationToken)
    {
        await client.PingAsync(cancellationToken).ConfigureAwait(false);
        return new ConsoleReply.Status("PONG");
    }

    public static string Text(byte[] word) => Encoding.UTF8.GetString(word);

    public static long? Integer(byte[] word) =>
        long.TryParse(Text(word), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static double? Double(byte[] word) =>
        double.TryParse(Text(word), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null;

    /// <summary>A count of <paramref name="unitMs"/> milliseconds (decimals allowed), or null when it is no number.</summary>
    public static TimeSpan? Duration(byte[] word, double unitMs) =>
        Double(word) is { } value && value * unitMs < TimeSpan.MaxValue.TotalMilliseconds ? TimeSpan.FromMilliseconds(value * unitMs) : null;
}
