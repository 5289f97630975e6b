namespace KvnDb.Scripts.Tests;

/// <summary>How a child process ended.</summary>
internal sealed record ScriptResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}
