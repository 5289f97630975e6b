namespace KvnDb.Scripts.Tests;

/// <summary>The globals dotnet-script gives a script that matter here: <c>Args</c>.</summary>
public sealed class DotnetScriptGlobals(IList<string> args)
{
    public IList<string> Args { get; } = args;
}
