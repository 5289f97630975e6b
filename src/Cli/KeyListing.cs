using System.Globalization;
using KvnDb.Client;

namespace KvnDb.Cli;

/// <summary>
/// <c>keys [PREFIX]</c>: streams the listing (never the whole keyspace in memory), prints each key as it
/// comes, then how many there were (formatted mode); on a terminal it pauses after each screenful.
/// </summary>
internal sealed class KeyListing(KvnDbClient client, ReplyPrinter printer, KeyPager? pager)
{
    public async Task<ConsoleReply> RunAsync(byte[] prefix, CancellationToken cancellationToken)
    {
        var output = printer.Output;
        long count = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await foreach (var key in client.ListKeysAsync(prefix, stop.Token).ConfigureAwait(false))
            {
                printer.WriteItem(++count, key);
                if (output.IsFull)
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (pager is not null && count % pager.PageSize == 0)
                {
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (!KeyPager.More(count))
                    {
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"(stopped after {count} keys)"));
                        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                        await stop.CancelAsync().ConfigureAwait(false);
                        return new ConsoleReply.Printed();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new ConsoleReply.Printed();
        }
        if (printer.Mode == OutputMode.Formatted)
            output.WriteLine(count == 0 ? "(empty array)" : string.Create(CultureInfo.InvariantCulture, $"({count} keys)"));
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new ConsoleReply.Printed();
    }

    /// <summary>How many keys there are, counted from a listing (the router keeps no count).</summary>
    public static async Task<long> CountAsync(KvnDbClient client, CancellationToken cancellationToken)
    {
        long count = 0;
        await foreach (var _ in client.ListKeysAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            count++;
        return count;
    }
}
