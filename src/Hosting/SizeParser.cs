using System.Globalization;

namespace KvnDb.Hosting;

/// <summary>Parses sizes such as <c>512m</c>, <c>64MiB</c>, <c>1g</c> or <c>4096</c> (bytes).</summary>
public static class SizeParser
{
    /// <summary>Parses like <see cref="Parse"/>; false for text that is not a size.</summary>
    public static bool TryParse(string text, out long size)
    {
        try
        {
            size = Parse(text);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            size = 0;
            return false;
        }
    }

    public static long Parse(string text)
    {
        var trimmed = text.Trim().ToLowerInvariant().Replace("ib", "", StringComparison.Ordinal).TrimEnd('b');
        var multiplier = 1L;
        if (trimmed.Length > 0 && char.IsLetter(trimmed[^1]))
        {
            multiplier = trimmed[^1] switch
            {
                'k' => 1L << 10,
                'm' => 1L << 20,
                'g' => 1L << 30,
                't' => 1L << 40,
                _ => throw new FormatException($"unknown size unit in '{text}' (use k, m, g or t)"),
            };
            trimmed = trimmed[..^1];
        }
        if (!double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number < 0)
            throw new FormatException($"'{text}' is not a size (examples: 4096, 64k, 512m, 1g)");
        return checked((long)(number * multiplier));
    }
}
