using KvnDb.Client;

namespace KvnDb.Cli;

/// <summary>
/// The interactive prompt: reads lines (with editing, history, Tab completion and hints on a terminal),
/// runs each command, prints its reply and keeps going; <c>multi</c>/<c>exec</c> queue a transaction.
/// Ends on quit, exit or end of input.
/// </summary>
internal sealed class InteractivePrompt(KvnDbClient client, ConsoleInput input, ReplyPrinter printer, TextWriter error, LineEditor? editor, CommandCancellation? cancellation)
{
    public async Task<int> RunAsync(string endpoint, CancellationToken cancellationToken)
    {
        var commands = new Commands(client, printer, editor is not null && printer.Output.IsTerminal ? new KeyPager() : null);
        TransactionQueue? transaction = null;
        if (editor is not null)
            await error.WriteLineAsync($"Connected to {endpoint}. Type help for commands (Tab completes), quit to leave.").ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested)
        {
            var prompt = transaction is null ? $"kvndb {endpoint}> " : $"kvndb {endpoint}(TX)> ";
            var line = editor is not null ? editor.ReadLine(prompt) : await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
                break;
            IReadOnlyList<byte[]> words;
            try
            {
                words = CommandLineSplitter.SplitBytes(line);
            }
            catch (FormatException ex)
            {
                await printer.PrintAsync(new ConsoleReply.Error(ex.Message), cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (words.Count == 0)
                continue;
            var command = CommandTable.Find(Commands.Text(words[0]));
            if (command?.Name == "quit")
                break;
            ConsoleReply reply;
            using (var running = cancellation?.BeginCommand(cancellationToken))
            {
                var token = running?.Token ?? cancellationToken;
                try
                {
                    reply = await RunAsync(commands, command, words, token, ref transaction).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    reply = new ConsoleReply.Printed(); // Ctrl+C stopped this command (a monitor, a listing); the prompt goes on
                }
            }
            await printer.PrintAsync(reply, CancellationToken.None).ConfigureAwait(false); // shown even if Ctrl+C came meanwhile
        }
        return 0;
    }

    private Task<ConsoleReply> RunAsync(Commands commands, CommandSpec? command, IReadOnlyList<byte[]> words, CancellationToken cancellationToken, ref TransactionQueue? transaction)
    {
        switch (command?.Name)
        {
            case "multi" when transaction is null:
                transaction = new TransactionQueue();
                return Task.FromResult(ConsoleReply.Ok);
            case "multi":
                return Task.FromResult<ConsoleReply>(new ConsoleReply.Error("multi calls can not be nested"));
            case "discard" or "exec" or "require" when transaction is null:
                return Task.FromResult<ConsoleReply>(new ConsoleReply.Error($"{command.Name} without multi"));
            case "discard":
                transaction = null;
                return Task.FromResult(ConsoleReply.Ok);
            case "exec":
                var queued = transaction!;
                transaction = null;
                return ExecuteAsync(queued, cancellationToken);
        }
        if (transaction is not null && command is not null)
        {
            var args = words.Skip(1).ToArray();
            return Task.FromResult(command.Accepts(args.Length)
                ? transaction.Add(command, args)
                : new ConsoleReply.Error($"wrong number of arguments for '{command.Name}': {command.Usage}"));
        }
        return commands.RunAsync(words, cancellationToken);
    }

    private async Task<ConsoleReply> ExecuteAsync(TransactionQueue queued, CancellationToken cancellationToken)
    {
        try
        {
            return await queued.ExecuteAsync(client, cancellationToken).ConfigureAwait(false);
        }
        catch (KvnDbException ex)
        {
            return new ConsoleReply.Error(ex.Message);
        }
    }
}
