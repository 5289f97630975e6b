using System.Text;

namespace KvnDb.Resp;

/// <summary>
/// What COMMAND reports about a command, in Redis's terms: arity (negative: at least that many
/// arguments, the name included), flags and the positions of its keys.
/// </summary>
internal sealed record RespCommandInfo(RespCommand Command, string Name, int Arity, string[] Flags, int FirstKey, int LastKey, int Step, string Summary, string Group = "string")
{
    /// <summary>The upper-case name, for lookups without allocation.</summary>
    public byte[] UpperName { get; } = Encoding.ASCII.GetBytes(Name.ToUpperInvariant());

    public bool AcceptsArity(int count) => Arity >= 0 ? count == Arity : count >= -Arity;

    /// <summary>Whether MULTI may queue it: commands that list or flush the keyspace, or need a guard of their own, may not.</summary>
    public bool Queueable => Command is not (RespCommand.Keys or RespCommand.Scan or RespCommand.RandomKey or RespCommand.DbSize
        or RespCommand.FlushDb or RespCommand.FlushAll or RespCommand.Lcs or RespCommand.MSetNx or RespCommand.SwapDb
        or RespCommand.Auth or RespCommand.Hello or RespCommand.Subscribe or RespCommand.Unsubscribe or RespCommand.PSubscribe
        or RespCommand.PUnsubscribe or RespCommand.Reset or RespCommand.Client);

    /// <summary>Allowed on a RESP2 connection that has subscriptions.</summary>
    public bool AllowedWhenSubscribed => Command is RespCommand.Subscribe or RespCommand.Unsubscribe or RespCommand.PSubscribe
        or RespCommand.PUnsubscribe or RespCommand.Ping or RespCommand.Quit or RespCommand.Reset;
}
