using System.Text;

namespace KvnDb.Cli;

/// <summary>
/// A small line editor for a real terminal: left/right, home/end, backspace/delete, up/down through
/// history, Ctrl+D on an empty line to leave. History persists in <c>~/.kvndb_history</c>.
/// </summary>
internal sealed class LineEditor
{
    private const int MaxHistory = 1000;
    private readonly List<string> _history = [];
    private readonly string? _historyFile;

    public LineEditor(string? historyFile)
    {
        _historyFile = historyFile;
        if (historyFile is not null && File.Exists(historyFile))
            _history.AddRange(File.ReadLines(historyFile).TakeLast(MaxHistory));
    }

    public string? ReadLine(string prompt)
    {
        Console.Write(prompt);
        var line = new StringBuilder();
        var cursor = 0;
        var historyIndex = _history.Count;
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    Console.WriteLine();
                    return Remember(line.ToString());
                case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control) && line.Length == 0:
                    Console.WriteLine();
                    return null;
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
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                    cursor = line.Length;
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
            Redraw(prompt, line, cursor);
        }
    }

    private static void Redraw(string prompt, StringBuilder line, int cursor)
    {
        Console.Write("\r" + prompt + line + "\u001b[K");
        Console.Write("\r" + prompt + line.ToString(0, cursor));
    }

    private string Remember(string line)
    {
        if (line.Trim().Length == 0 || (_history.Count > 0 && _history[^1] == line))
            return line;
        _history.Add(line);
        if (_historyFile is not null)
        {
            try
            {
                File.AppendAllLines(_historyFile, [line]);
            }
            catch (IOException)
            {
                // History is a convenience; an unwritable file must not break the prompt.
            }
        }
        return line;
    }
}
