namespace KvnDb.Cli;

/// <summary>
/// What a command answered, in the shapes redis-cli prints: a status (<c>OK</c>), nil, an integer, a
/// bulk string (bytes), an array, an error, or text printed as it is (info, digest, help).
/// </summary>
internal abstract record ConsoleReply
{
    /// <summary>The process's exit code for this reply in one-shot mode: 0, or 1 for an error or nil.</summary>
    public virtual int ExitCode => 0;

    public static readonly ConsoleReply Ok = new Status("OK");

    public static readonly ConsoleReply NoValue = new Nil();

    public static ConsoleReply Of(byte[]? value) => value is null ? NoValue : new Bulk(value);

    public static ConsoleReply Of(bool value) => new Integer(value ? 1 : 0);

    public sealed record Status(string Word) : ConsoleReply;

    public sealed record Nil : ConsoleReply
    {
        public override int ExitCode => 1;
    }

    public sealed record Integer(long Value) : ConsoleReply;

    public sealed record Bulk(byte[] Value) : ConsoleReply;

    public sealed record Multi(IReadOnlyList<ConsoleReply> Items) : ConsoleReply;

    public sealed record Error(string Message) : ConsoleReply
    {
        public override int ExitCode => 1;
    }

    /// <summary>Lines printed as they are, in every output mode; <paramref name="Errors"/> goes to standard error.</summary>
    public sealed record Text(string Value, int Exit = 0, string Errors = "") : ConsoleReply
    {
        public override int ExitCode => Exit;
    }

    /// <summary>The command printed its own output as it went (a streamed key listing, a monitor).</summary>
    public sealed record Printed(int Exit = 0) : ConsoleReply
    {
        public override int ExitCode => Exit;
    }
}
