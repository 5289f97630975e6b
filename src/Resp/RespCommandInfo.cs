namespace KvnDb.Resp;

/// <summary>
/// What COMMAND reports about a command, in Redis's terms: arity (negative: at least that many
/// arguments, the name included), flags and the positions of its keys.
/// </summary>
internal sealed record RespCommandInfo(RespCommand Command, string Name, int Arity, string[] Flags, int FirstKey, int LastKey, int Step, string Summary)
{
    public bool AcceptsArity(int count) => Arity >= 0 ? count == Arity : count >= -Arity;
}
