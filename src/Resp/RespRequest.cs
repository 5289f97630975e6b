namespace KvnDb.Resp;

/// <summary>One parsed command: its bytes (in the pipe's buffer or a scratch copy) and its argument positions.</summary>
internal readonly ref struct RespRequest(ReadOnlySpan<byte> command, RespArguments arguments)
{
    private readonly ReadOnlySpan<byte> _command = command;

    public int Count => arguments.Count;

    public ReadOnlySpan<byte> this[int index] => _command.Slice(arguments.Offset(index), arguments.Length(index));
}
