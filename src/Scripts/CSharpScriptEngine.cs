using System.Diagnostics;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.Extensions.Logging;

namespace KvnDb.Scripts;

/// <summary>
/// Compiles .csx files with Roslyn scripting (the engine dotnet-script uses) into a real assembly, kept in the
/// <see cref="ScriptCache"/> so that an unchanged script is loaded, not compiled, on its next run.
/// </summary>
internal sealed class CSharpScriptEngine(ScriptCache? cache, ILogger logger)
{
    /// <summary>Compiles (or loads from the cache) the script; null after printing its compile errors to <paramref name="errors"/>.</summary>
    public CompiledCSharpScript? Prepare(string scriptPath, TextWriter errors, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var content = File.ReadAllText(scriptPath);
        var key = ScriptCache.KeyOf(scriptPath, content);
        if (cache?.TryGet(key) is { } hit)
        {
            var loaded = CompiledCSharpScript.Load(hit.AssemblyPath, hit.Manifest);
            ScriptLog.LoadedFromCache(logger, scriptPath, hit.AssemblyPath, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return loaded;
        }

        var compilation = CSharpScript.Create<object>(content, CreateOptions(scriptPath), typeof(ScriptGlobals)).GetCompilation();
        var diagnostics = compilation.GetDiagnostics(cancellationToken)
            .Where(d => d.Severity is DiagnosticSeverity.Error or DiagnosticSeverity.Warning && !d.IsSuppressed)
            .OrderBy(d => d.Severity == DiagnosticSeverity.Error ? 0 : 1)
            .ToList();
        foreach (var diagnostic in diagnostics)
            errors.WriteLine(DiagnosticWriter.Format(diagnostic, scriptPath));
        if (diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
            return null;

        using var image = new MemoryStream();
        var emitted = compilation.Emit(image, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded), cancellationToken: cancellationToken);
        if (!emitted.Success)
        {
            foreach (var diagnostic in emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error))
                errors.WriteLine(DiagnosticWriter.Format(diagnostic, scriptPath));
            return null;
        }

        var entryPoint = compilation.GetEntryPoint(cancellationToken)
            ?? throw new InvalidOperationException("The script compilation has no entry point.");
        var references = compilation.DirectiveReferences
            .OfType<PortableExecutableReference>()
            .Select(r => r.FilePath)
            .OfType<string>()
            .Where(p => !HostReferences.Shared.Any(a => a.Location == p))
            .ToList();
        var manifest = new ScriptManifest
        {
            TypeName = entryPoint.ContainingType.MetadataName,
            MethodName = entryPoint.MetadataName,
            Dependencies = compilation.SyntaxTrees
                .Select(t => t.FilePath)
                .Where(p => !string.IsNullOrEmpty(p) && p != scriptPath && File.Exists(p))
                .Concat(references)
                .Distinct()
                .Select(FileStamp.Of)
                .ToList(),
            References = references,
        };
        var script = cache is not null
            ? CompiledCSharpScript.Load(cache.Store(key, image.GetBuffer().AsSpan(0, (int)image.Length), manifest), manifest)
            : CompiledCSharpScript.Load(image, manifest);
        ScriptLog.Compiled(logger, scriptPath, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return script;
    }

    private static ScriptOptions CreateOptions(string scriptPath)
    {
        var folder = Path.GetDirectoryName(scriptPath)!;
        return ScriptOptions.Default
            .WithFilePath(scriptPath)
            .WithFileEncoding(Encoding.UTF8)
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(folder))
            .WithMetadataResolver(new HostMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(folder)))
            .AddReferences(HostReferences.Assemblies)
            .WithImports(HostReferences.Imports)
            .WithEmitDebugInformation(true)
            .WithOptimizationLevel(OptimizationLevel.Debug)
            .WithAllowUnsafe(true);
    }
}
