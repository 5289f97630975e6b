using System.Globalization;

namespace KvnDb.Protocol;

/// <summary>
/// A router's <c>host:port</c> (IPv6 in brackets: <c>[::1]:54565</c>), as in <c>--routers h:p,h:p</c> and in a NotLeader
/// reply. A host without a port means the default port.
/// </summary>
public readonly record struct RouterAddress(string Host, int Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    public static bool TryParse(ReadOnlySpan<char> text, out RouterAddress address)
    {
        address = default;
        text = text.Trim();
        if (text.IsEmpty)
            return false;
        ReadOnlySpan<char> host;
        var port = ProtocolLimits.DefaultPort;
        if (text[0] == '[')
        {
            var close = text.IndexOf(']');
            if (close < 2)
                return false;
            host = text[1..close];
            var rest = text[(close + 1)..];
            if (!rest.IsEmpty && (rest[0] != ':' || !TryParsePort(rest[1..], out port)))
                return false;
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon >= 0 && text[..colon].Contains(':'))
            {
                host = text; // a bare IPv6 address: no port
            }
            else if (colon >= 0)
            {
                host = text[..colon];
                if (host.IsEmpty || !TryParsePort(text[(colon + 1)..], out port))
                    return false;
            }
            else
            {
                host = text;
            }
        }
        address = new RouterAddress(host.ToString(), port);
        return true;
    }

    public static RouterAddress Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not a router address (host:port)");

    /// <summary>A comma-separated list (<c>h1:p1,h2:p2</c>); throws <see cref="FormatException"/> naming the bad entry.</summary>
    public static IReadOnlyList<RouterAddress> ParseList(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse)];

    private static bool TryParsePort(ReadOnlySpan<char> text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
}
