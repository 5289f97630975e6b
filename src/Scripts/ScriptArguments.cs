namespace KvnDb.Scripts;

/// <summary>Splits kvndb-script's own arguments from the script's (everything after the first <c>--</c>).</summary>
internal static class ScriptArguments
{
    public static (string[] Host, string[] Script) Split(string[] args)
    {
        var separator = Array.IndexOf(args, "--");
        return separator < 0 ? (args, []) : (args[..separator], args[(separator + 1)..]);
    }
}
