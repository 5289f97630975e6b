namespace KvnDb.Scripts;

/// <summary>Process exit codes of kvndb-script (a script may also return its own int).</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Compile error, exception thrown by the script, or no connection to the router.</summary>
    public const int Failure = 1;

    /// <summary>Cancelled with Ctrl+C, as shells report SIGINT (128 + 2).</summary>
    public const int Cancelled = 130;
}
