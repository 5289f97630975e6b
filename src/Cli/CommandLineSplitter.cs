using System.Text;

namespace KvnDb.Cli;

/// <summary>
/// Splits a prompt line the way a POSIX shell would: whitespace separates words; '...' keeps
/// everything literal; "..." allows \" and \\ escapes; a backslash outside quotes escapes the next character.
/// </summary>
internal static class CommandLineSplitter
{
    public static IReadOnlyList<string> Split(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            switch (c)
            {
                case ' ' or '\t':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }
                    break;
                case '\'':
                    inWord = true;
                    var close = line.IndexOf('\'', i + 1);
                    if (close < 0)
                        throw new FormatException("unterminated single quote");
                    word.Append(line, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    inWord = true;
                    i = ReadDoubleQuoted(line, i + 1, word);
                    break;
                case '\\' when i + 1 < line.Length:
                    inWord = true;
                    word.Append(line[++i]);
                    break;
                default:
                    inWord = true;
                    word.Append(c);
                    break;
            }
        }
        if (inWord)
            words.Add(word.ToString());
        return words;
    }

    private static int ReadDoubleQuoted(string line, int start, StringBuilder word)
    {
        for (var i = start; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '"')
                return i;
            if (c == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$' or '`')
                c = line[++i];
            word.Append(c);
        }
        throw new FormatException("unterminated double quote");
    }
}
