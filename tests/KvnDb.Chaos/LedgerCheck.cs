using System.Diagnostics;
using KvnDb.Client;

namespace KvnDb.Chaos;

/// <summary>
/// Reads back every key the ledger knows, in batches, while the writers may still be running, and judges each
/// read against its window (<see cref="KeyLedger.Judge"/>). A batch whose read fails is read again (marks
/// taken afresh) until <paramref name="patience"/> is spent: a router that serves but cannot answer reads is a
/// failure too.
/// </summary>
internal sealed class LedgerCheck(KeyLedger ledger, TextWriter log, TimeSpan patience)
{
    private const int BatchSize = 500;
    private const int Shown = 10;
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(100);

    public int Checks { get; private set; }

    public long KeysChecked { get; private set; }

    public long LateIndeterminate { get; private set; }

    public long Lost { get; private set; }

    /// <summary>Throws <see cref="ChaosFailureException"/> naming the keys if any acknowledged write is missing or wrong.</summary>
    public async Task RunAsync(KvnDbClient client, string when)
    {
        var clock = Stopwatch.StartNew();
        var lost = new List<string>();
        var keys = 0;
        using (ledger.BeginCheck())
        {
            foreach (var batch in ledger.Keys.Chunk(BatchSize))
            {
                var (marks, values) = await ReadAsync(client, batch, when);
                for (var i = 0; i < batch.Length; i++)
                {
                    switch (ledger.Judge(batch[i], marks[i], values[i]))
                    {
                        case Verdict.Lost:
                            lost.Add($"key {batch[i]} read {KeyLedger.Show(values[i])}: {ledger.Describe(batch[i], marks[i])}");
                            break;
                        case Verdict.LateIndeterminate:
                            LateIndeterminate++;
                            break;
                    }
                }
                keys += batch.Length;
            }
        }
        Checks++;
        KeysChecked += keys;
        Lost += lost.Count;
        await log.WriteLineAsync($"chaos:        ledger check {when}: {keys} keys in {clock.Elapsed.TotalSeconds:0.0} s, lost {lost.Count}");
        if (lost.Count == 0)
            return;
        foreach (var line in lost.Take(Shown))
            await log.WriteLineAsync($"chaos: LOST {line}");
        if (lost.Count > Shown)
            await log.WriteLineAsync($"chaos: LOST ... and {lost.Count - Shown} more");
        throw new ChaosFailureException($"{lost.Count} of {keys} keys lost an acknowledged write or hold a value they never had ({when})");
    }

    private async Task<(int[] Marks, string?[] Values)> ReadAsync(KvnDbClient client, string[] batch, string when)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var marks = ledger.Marks(batch);
            try
            {
                return (marks, await client.MultiGetStringsAsync(batch));
            }
            catch (KvnDbException e) when (clock.Elapsed < patience)
            {
                await log.WriteLineAsync($"chaos:        ledger check {when}: read failed ({e.Message}), again");
                await Task.Delay(RetryPause); // a pause between attempts, not a wait for anything
            }
            catch (KvnDbException e)
            {
                throw new ChaosFailureException($"reads failed for {patience.TotalSeconds:0} s during the ledger check {when}: {e.Message}");
            }
        }
    }
}
