using System.Globalization;
using System.Text;

namespace KvnDb.Cli;

/// <summary>
/// Splits a prompt line the way a POSIX shell would: whitespace separates words; '...' keeps
/// everything literal; "..." allows \" and \\ escapes, and redis-cli's \n \r \t \a \b and \xHH (any
/// byte, so a binary key or value can be typed back exactly as it is printed); a backslash outside quotes
/// escapes the next character. Words are bytes (UTF-8 for text).
/// </summary>
internal static class CommandLineSplitter
{
    public static IReadOnlyList<string> Split(string line) => [.. SplitBytes(line).Select(w => Encoding.UTF8.GetString(w))];

    public static IReadOnlyList<byte[]> SplitBytes(string line)
    {
        var words = new List<byte[]>();
        var word = new List<byte>();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            switch (c)
            {
                case ' ' or '\t':
                    if (inWord)
                    {
                        words.Add([.. word]);
                        word.Clear();
                        inWord = false;
                    }
                    break;
                case '\'':
                    inWord = true;
                    var close = line.IndexOf('\'', i + 1);
                    if (close < 0)
                        throw new FormatException("unterminated single quote");
                    Append(word, line.AsSpan(i + 1, close - i - 1));
                    i = close;
                    break;
                case '"':
                    inWord = true;
                    i = ReadDoubleQuoted(line, i + 1, word);
                    break;
                case '\\' when i + 1 < line.Length:
                    inWord = true;
                    i = AppendChar(word, line, i + 1);
                    break;
                default:
                    inWord = true;
                    i = AppendChar(word, line, i);
                    break;
            }
        }
        if (inWord)
            words.Add([.. word]);
        return words;
    }

    private static int ReadDoubleQuoted(string line, int start, List<byte> word)
    {
        for (var i = start; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '"')
                return i;
            if (c == '\\' && i + 1 < line.Length)
            {
                var next = line[i + 1];
                byte? escaped = next switch
                {
                    '"' or '\\' or '$' or '`' => (byte)next,
                    'n' => (byte)'\n',
                    'r' => (byte)'\r',
                    't' => (byte)'\t',
                    'a' => 0x07,
                    'b' => 0x08,
                    _ => null,
                };
                if (escaped is { } b)
                {
                    word.Add(b);
                    i++;
                    continue;
                }
                if (next == 'x' && i + 3 < line.Length
                    && byte.TryParse(line.AsSpan(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
                {
                    word.Add(hex);
                    i += 3;
                    continue;
                }
            }
            i = AppendChar(word, line, i);
        }
        throw new FormatException("unterminated double quote");
    }

    /// <summary>Appends the character at <paramref name="index"/> (both halves of a surrogate pair) as UTF-8; returns the last index used.</summary>
    private static int AppendChar(List<byte> word, string line, int index)
    {
        var length = char.IsHighSurrogate(line[index]) && index + 1 < line.Length ? 2 : 1;
        Append(word, line.AsSpan(index, length));
        return index + length - 1;
    }

    private static void Append(List<byte> word, ReadOnlySpan<char> text)
    {
        Span<byte> buffer = stackalloc byte[8];
        if (text.Length <= 2)
        {
            word.AddRange((ReadOnlySpan<byte>)buffer[..Encoding.UTF8.GetBytes(text, buffer)]);
            return;
        }
        word.AddRange(Encoding.UTF8.GetBytes(text.ToArray()));
    }
}
