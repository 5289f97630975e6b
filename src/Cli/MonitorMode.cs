using System.Globalization;
using KvnDb.Client;
using KvnDb.Protocol;

namespace KvnDb.Cli;

/// <summary>
/// <c>monitor</c>: prints every request the router receives, as redis-cli's MONITOR does:
/// <c>1733070000.123456 [7 127.0.0.1:40112] "set" "user:1" (13 bytes)</c>. Values are never shown, only
/// the request's size; a multi-key request shows its first key and how many it has. Until Ctrl+C.
/// </summary>
internal sealed class MonitorMode(KvnDbClient client, ReplyPrinter printer)
{
    public async Task<ConsoleReply> RunAsync(CancellationToken cancellationToken)
    {
        var output = printer.Output;
        try
        {
            await foreach (var e in client.MonitorAsync(cancellationToken).ConfigureAwait(false))
            {
                output.WriteLine(Describe(e));
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        return new ConsoleReply.Printed();
    }

    internal static string Describe(in MonitorEvent e)
    {
        var time = (e.TimeMicros / 1_000_000.0).ToString("0.000000", CultureInfo.InvariantCulture);
        return e.Kind switch
        {
            MonitorEventKind.Started => "OK",
            MonitorEventKind.Dropped => $"{time} (dropped {e.ClientId} events: this monitor fell behind)",
            _ => string.Create(CultureInfo.InvariantCulture,
                $"{time} [{e.ClientId} {e.Address}] \"{Name(e.Opcode)}\"{(e.KeyCount > 0 ? " " + ReplyPrinter.Quote(e.Key) : "")}{(e.KeyCount > 1 ? $" (+{e.KeyCount - 1} keys)" : "")} ({e.BodyBytes} bytes)"),
        };
    }

    private static string Name(Opcode opcode) => opcode switch
    {
        Opcode.Delete => "del",
        Opcode.GetDelete => "getdel",
        Opcode.MultiGet => "mget",
        Opcode.MultiSet => "mset",
        Opcode.ListKeys => "keys",
        Opcode.GetVersioned => "getv",
        Opcode.TimeToLive => "ttl",
        Opcode.SetWhen => "set (conditional)",
        Opcode.Increment => "incrby",
        Opcode.IncrementFloat => "incrbyfloat",
        Opcode.Transaction => "exec",
        _ => opcode.ToString().ToLowerInvariant(),
    };
}
