using KvnDb.Client;
using Microsoft.Extensions.Logging;

namespace KvnDb.Scripts;

/// <summary>
/// The globals as static members, for F# scripts: the host opens this type (<c>open type</c>), so
/// <c>Kv</c>, <c>Args</c>, <c>Log</c> and <c>Cancellation</c> read as plain values there.
/// </summary>
public static class FSharpGlobals
{
    public static KvnDbClient Kv => Current.Kv;

    public static IList<string> Args => Current.Args;

    public static ILogger Log => Current.Log;

    public static CancellationToken Cancellation => Current.Cancellation;

    public static string ScriptPath => Current.ScriptPath;

    public static string ScriptDirectory => Current.ScriptDirectory;

    private static ScriptGlobals Current => ScriptGlobals.Current ?? throw new InvalidOperationException("No script is running.");
}
