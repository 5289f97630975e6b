namespace KvnDb.Fuzzing;

/// <summary>
/// Run lengths for the fuzz properties: short by default so the suite stays fast; set
/// <c>CsCheck_Iter</c> or <c>CsCheck_Time</c> (seconds) to fuzz longer, <c>CsCheck_Seed</c> to replay a failure.
/// </summary>
public static class FuzzRun
{
    /// <summary>Every fuzz property must finish within this, so a parser that loops fails instead of hanging CI.</summary>
    public static readonly TimeSpan HangTimeout = TimeSpan.FromSeconds(120);

    private static bool Overridden =>
        Environment.GetEnvironmentVariable("CsCheck_Iter") is not null || Environment.GetEnvironmentVariable("CsCheck_Time") is not null;

    /// <summary>The iteration count to pass to CsCheck: <paramref name="byDefault"/>, or -1 to let its environment variables decide.</summary>
    public static long Iter(long byDefault) => Overridden ? -1 : byDefault;

    /// <summary>Runs a property on the thread pool and fails if it does not finish in time.</summary>
    public static Task WithinTimeoutAsync(Action property) => Task.Run(property).WaitAsync(HangTimeout);
}
