using System.Text;
using System.Text.RegularExpressions;

namespace KvnDb.Cli;

/// <summary>
/// A small line editor for a real terminal: left/right, home/end (Ctrl+A/Ctrl+E), backspace/delete,
/// Ctrl+U, up/down through history, Tab to complete a command name (twice to list the candidates), a
/// grey hint of the arguments still to type, Ctrl+D on an empty line to leave. History persists in
/// <see cref="HistoryFile"/> (mode 0600).
/// </summary>
internal sealed partial class LineEditor
{
    private const int MaxHistory = 1000;
    private const string Grey = "\u001b[90m";
    private const string Plain = "\u001b[0m";
    private readonly List<string> _history = [];
    private readonly HistoryFile _file;

    public LineEditor(HistoryFile file)
    {
        _file = file;
        _history.AddRange(file.Load(MaxHistory));
    }

    public string? ReadLine(string prompt)
    {
        Console.Write(prompt);
        var line = new StringBuilder();
        var cursor = 0;
        var historyIndex = _history.Count;
        var tabs = 0;
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            tabs = key.Key == ConsoleKey.Tab ? tabs + 1 : 0;
            var control = key.Modifiers.HasFlag(ConsoleModifiers.Control);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    Redraw(prompt, line, line.Length, hint: false);
                    Console.WriteLine();
                    return Remember(line.ToString());
                case ConsoleKey.D when control && line.Length == 0:
                    Console.WriteLine();
                    return null;
                case ConsoleKey.Tab:
                    cursor = Complete(prompt, line, cursor, tabs);
                    break;
                case ConsoleKey.Backspace when cursor > 0:
                    line.Remove(--cursor, 1);
                    break;
                case ConsoleKey.Delete when cursor < line.Length:
                    line.Remove(cursor, 1);
                    break;
                case ConsoleKey.LeftArrow when cursor > 0:
                    cursor--;
                    break;
                case ConsoleKey.RightArrow when cursor < line.Length:
                    cursor++;
                    break;
                case ConsoleKey.Home:
                case ConsoleKey.A when control:
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                case ConsoleKey.E when control:
                    cursor = line.Length;
                    break;
                case ConsoleKey.U when control:
                    line.Remove(0, cursor);
                    cursor = 0;
                    break;
                case ConsoleKey.UpArrow when historyIndex > 0:
                    line.Clear().Append(_history[--historyIndex]);
                    cursor = line.Length;
                    break;
                case ConsoleKey.DownArrow when historyIndex < _history.Count:
                    historyIndex++;
                    line.Clear().Append(historyIndex < _history.Count ? _history[historyIndex] : "");
                    cursor = line.Length;
                    break;
                default:
                    if (!char.IsControl(key.KeyChar))
                        line.Insert(cursor++, key.KeyChar);
                    break;
            }
            Redraw(prompt, line, cursor, hint: true);
        }
    }

    /// <summary>Completes the command word under the cursor: the one match, else the candidates' common start; a second Tab lists them.</summary>
    private static int Complete(string prompt, StringBuilder line, int cursor, int tabs)
    {
        var text = line.ToString(0, cursor);
        if (text.TrimStart().Contains(' ', StringComparison.Ordinal))
            return cursor; // only the command word is completed
        var typed = text.TrimStart();
        var candidates = CommandTable.Complete(typed).ToList();
        if (candidates.Count == 0)
            return cursor;
        var completion = candidates.Count == 1 ? candidates[0] + " " : CommonPrefix(candidates);
        if (completion.Length > typed.Length)
        {
            line.Remove(cursor - typed.Length, typed.Length).Insert(cursor - typed.Length, completion);
            return cursor - typed.Length + completion.Length;
        }
        if (tabs >= 2)
        {
            Console.WriteLine();
            Console.WriteLine(string.Join("  ", candidates));
            Console.Write(prompt);
        }
        return cursor;
    }

    private static string CommonPrefix(List<string> words)
    {
        var prefix = words[0];
        foreach (var word in words.Skip(1))
        {
            var n = 0;
            while (n < prefix.Length && n < word.Length && char.ToLowerInvariant(prefix[n]) == char.ToLowerInvariant(word[n]))
                n++;
            prefix = prefix[..n];
        }
        return prefix;
    }

    /// <summary>The arguments still to type after a known command (redis-cli's hints), or empty.</summary>
    internal static string Hint(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || CommandTable.Find(words[0]) is not { Arguments.Length: > 0 } command)
            return "";
        if (!line.EndsWith(' '))
            return ""; // a word is being typed
        var typedArguments = words.Length - 1;
        var rest = ArgumentPattern().Matches(command.Arguments).Select(m => m.Value).Skip(typedArguments).ToList();
        return rest.Count == 0 ? "" : string.Join(' ', rest);
    }

    private static void Redraw(string prompt, StringBuilder line, int cursor, bool hint)
    {
        var text = line.ToString();
        var hintText = hint && cursor == line.Length ? Hint(text) : "";
        Console.Write("\r" + prompt + text + (hintText.Length > 0 ? Grey + hintText + Plain : "") + "\u001b[K");
        Console.Write("\r" + prompt + text[..cursor]);
    }

    private string Remember(string line)
    {
        if (line.Trim().Length == 0 || (_history.Count > 0 && _history[^1] == line))
            return line;
        _history.Add(line);
        _file.Append(line);
        return line;
    }

    // An argument of a usage line: a bracketed optional group, or one word.
    [GeneratedRegex(@"\[[^\]]*\]|\S+")]
    private static partial Regex ArgumentPattern();
}
