namespace KvnDb.Cli;

/// <summary>
/// Pauses a long listing on a terminal after each screenful, as <c>more</c> does: space or Enter goes
/// on, q (or Esc) stops the listing.
/// </summary>
internal sealed class KeyPager
{
    public int PageSize { get; } = Math.Max(5, SafeWindowHeight() - 2);

    /// <summary>Asks whether to go on; false to stop.</summary>
    public static bool More(long shown)
    {
        var prompt = $"-- {shown} keys so far: space/Enter for more, q to stop --";
        Console.Write(prompt);
        var key = Console.ReadKey(intercept: true);
        Console.Write("\r" + new string(' ', prompt.Length) + "\r");
        return key.Key is not (ConsoleKey.Q or ConsoleKey.Escape);
    }

    private static int SafeWindowHeight()
    {
        try
        {
            return Console.WindowHeight;
        }
        catch (IOException)
        {
            return 24;
        }
    }
}
