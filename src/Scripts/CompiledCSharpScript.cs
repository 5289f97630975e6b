using System.Reflection;
using System.Runtime.Loader;

namespace KvnDb.Scripts;

/// <summary>A compiled C# script loaded into the process, ready to run once.</summary>
internal sealed class CompiledCSharpScript
{
    private readonly Func<object[], Task<object>> _factory;

    private CompiledCSharpScript(Func<object[], Task<object>> factory) => _factory = factory;

    /// <summary>Loads the assembly at <paramref name="assemblyPath"/> and finds the script's entry point.</summary>
    public static CompiledCSharpScript Load(string assemblyPath, ScriptManifest manifest)
    {
        RegisterReferences(manifest.References);
        return FromAssembly(AssemblyLoadContext.Default.LoadFromAssemblyPath(assemblyPath), manifest);
    }

    /// <summary>Loads a script image held in memory (no cache).</summary>
    public static CompiledCSharpScript Load(MemoryStream image, ScriptManifest manifest)
    {
        RegisterReferences(manifest.References);
        image.Position = 0;
        return FromAssembly(AssemblyLoadContext.Default.LoadFromStream(image), manifest);
    }

    private static CompiledCSharpScript FromAssembly(Assembly assembly, ScriptManifest manifest)
    {
        var type = assembly.GetType(manifest.TypeName, throwOnError: true)!;
        var method = type.GetMethod(manifest.MethodName, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"Entry point {manifest.TypeName}.{manifest.MethodName} not found in {assembly.FullName}");
        return new CompiledCSharpScript(method.CreateDelegate<Func<object[], Task<object>>>());
    }

    /// <summary>Runs the script; its result is the value of a top-level <c>return</c>, or null.</summary>
    public Task<object> RunAsync(ScriptGlobals globals)
    {
        // Slot 0 holds the globals object, slot 1 the submission itself (one submission, no REPL chain).
        var submissions = new object[2];
        submissions[0] = globals;
        return _factory(submissions);
    }

    /// <summary>Lets the runtime find <c>#r</c> assemblies (and their neighbours) that are not beside the host.</summary>
    private static void RegisterReferences(List<string> references)
    {
        if (references.Count == 0)
            return;
        var byName = references.ToDictionary(r => Path.GetFileNameWithoutExtension(r), StringComparer.OrdinalIgnoreCase);
        var folders = references.Select(r => Path.GetDirectoryName(r)!).Distinct().ToArray();
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            if (name.Name is null)
                return null;
            if (byName.TryGetValue(name.Name, out var path))
                return context.LoadFromAssemblyPath(path);
            foreach (var folder in folders)
            {
                var candidate = Path.Combine(folder, name.Name + ".dll");
                if (File.Exists(candidate))
                    return context.LoadFromAssemblyPath(candidate);
            }
            return null;
        };
    }
}
