using KvnDb.Client;

namespace KvnDb.Cli;

/// <summary>
/// The interactive prompt: reads lines (with editing and history on a terminal), runs each command,
/// prints errors on their own line and keeps going. Ends on quit, exit or end of input.
/// </summary>
internal sealed class InteractivePrompt(KvnDbClient client, TextReader input, TextWriter output, TextWriter error, LineEditor? editor)
{
    public async Task<int> RunAsync(string endpoint, CancellationToken cancellationToken)
    {
        var commands = new Commands(client, output, error);
        var prompt = $"kvndb {endpoint}> ";
        if (editor is not null)
            await output.WriteLineAsync($"Connected to {endpoint}. Type help for commands, quit to leave.");
        while (!cancellationToken.IsCancellationRequested)
        {
            var line = editor is not null ? editor.ReadLine(prompt) : await input.ReadLineAsync(cancellationToken);
            if (line is null)
                break;
            IReadOnlyList<string> words;
            try
            {
                words = CommandLineSplitter.Split(line);
            }
            catch (FormatException ex)
            {
                await error.WriteLineAsync($"error: {ex.Message}");
                continue;
            }
            if (words.Count == 0)
                continue;
            if (words[0].ToLowerInvariant() is "quit" or "exit")
                break;
            await commands.RunAsync(words, cancellationToken);
            await output.FlushAsync(CancellationToken.None); // the answer is shown even if Ctrl+C came meanwhile
        }
        return 0;
    }
}
