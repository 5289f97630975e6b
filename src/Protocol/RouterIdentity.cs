using System.Text;

namespace KvnDb.Protocol;

/// <summary>
/// Who answers a node's hello, after the frame and key limits of the reply to a node: <c>[u64 term][field router]</c>.
/// <see cref="Term"/> is the router group's Raft term in which this router leads (0: a single router, no group);
/// <see cref="Router"/> is the address clients reach it at (<c>host:port</c>, UTF-8). A node remembers, with its data, the
/// highest term it has served and refuses a router with a lower one: a deposed leader cannot get writes applied by a
/// node that has followed its successor (fencing).
/// </summary>
public readonly record struct RouterIdentity(ulong Term, string Router)
{
    /// <summary>Longest router address accepted (a host name and a port).</summary>
    public const int MaxRouterLength = 512;

    public int Size => 8 + FrameWriter.LengthPrefixSize + Encoding.UTF8.GetByteCount(Router);

    internal void Write(ref FrameBuilder frame)
    {
        frame.UInt64(Term);
        frame.Utf8Field(Router);
    }

    internal static bool TryRead(ref BodyReader reader, out RouterIdentity identity)
    {
        identity = default;
        if (!reader.TryReadUInt64(out var term) || !reader.TryReadField(out var router) || router.Length > MaxRouterLength)
            return false;
        identity = new RouterIdentity(term, Encoding.UTF8.GetString(router));
        return true;
    }
}
