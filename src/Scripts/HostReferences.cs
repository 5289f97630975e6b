using System.Reflection;
using KvnDb.Client;
using Microsoft.Extensions.Logging;

namespace KvnDb.Scripts;

/// <summary>The assemblies and namespaces every script gets from the host without asking.</summary>
internal static class HostReferences
{
    /// <summary>Assemblies a script is compiled against besides the framework's defaults.</summary>
    public static readonly Assembly[] Assemblies =
    [
        typeof(KvnDbClient).Assembly,
        typeof(KvnDb.Protocol.WriteConcern).Assembly,
        typeof(ILogger).Assembly,
        typeof(ScriptGlobals).Assembly,
        typeof(System.Text.Json.JsonSerializer).Assembly,
        typeof(System.Text.Json.Nodes.JsonNode).Assembly,
        typeof(System.Linq.AsyncEnumerable).Assembly,
        typeof(System.Collections.Concurrent.ConcurrentDictionary<,>).Assembly,
        typeof(System.Diagnostics.Stopwatch).Assembly,
    ];

    /// <summary>Namespaces imported into every C# script (and opened in every F# script).</summary>
    public static readonly string[] Imports =
    [
        "System",
        "System.Collections.Generic",
        "System.IO",
        "System.Linq",
        "System.Text",
        "System.Threading",
        "System.Threading.Tasks",
        "KvnDb.Client",
        "KvnDb.Protocol",
        "Microsoft.Extensions.Logging",
    ];

    /// <summary>
    /// Assemblies the host already carries: a script's <c>#r</c> of its own copy of one of these (as a
    /// script written for dotnet-script does) binds to the host's copy, so one client type exists at run time.
    /// </summary>
    public static readonly Assembly[] Shared = [typeof(KvnDbClient).Assembly, typeof(KvnDb.Protocol.WriteConcern).Assembly];

    /// <summary>The shared host assembly whose file name is <paramref name="fileName"/>, if any.</summary>
    public static Assembly? FindShared(string fileName) =>
        Shared.FirstOrDefault(a => string.Equals(Path.GetFileName(a.Location), fileName, StringComparison.OrdinalIgnoreCase));
}
