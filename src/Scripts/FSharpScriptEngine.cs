using System.Text;
using FSharp.Compiler.Diagnostics;
using static FSharp.Compiler.Interactive.Shell;
using Microsoft.Extensions.Logging;
using Microsoft.FSharp.Core;

namespace KvnDb.Scripts;

/// <summary>
/// Runs .fsx files in an in-process F# Interactive session (FSharp.Compiler.Service). A prelude references
/// the client and opens <see cref="FSharpGlobals"/>; the script is then type-checked whole and, only if
/// that succeeds, run.
/// </summary>
internal sealed class FSharpScriptEngine(ILogger logger)
{
    /// <summary>Outcome of <see cref="Run"/>: compile errors, an exception from the script, or success.</summary>
    public sealed record Outcome(bool CompileFailed, Exception? Exception);

    public Outcome Run(string scriptPath, TextWriter errors)
    {
        // FSI writes its own copy of diagnostics and banners here; we print the structured ones ourselves.
        var fsiOutput = new StringWriter();
        string[] argv = ["fsi", "--noninteractive", "--nologo", "--quiet", "--gui-", "--debug+", "--optimize-"];
        using var session = FsiEvaluationSession.Create(
            FsiEvaluationSession.GetDefaultConfiguration(), argv, new StringReader(""), fsiOutput, fsiOutput,
            FSharpOption<bool>.Some(false), null);

        var (preludeResult, preludeDiagnostics) = session.EvalInteractionNonThrowing(Prelude(), FSharpOption<CancellationToken>.None);
        if (WriteDiagnostics(preludeDiagnostics, errors, scriptPath) || preludeResult is FSharpChoice<FSharpOption<FsiValue>, Exception>.Choice2Of2)
        {
            errors.WriteLine($"{scriptPath}: error: the F# prelude failed (see above); {fsiOutput}");
            return new Outcome(true, null);
        }
        ScriptLog.FSharpReady(logger);

        var (result, diagnostics) = session.EvalScriptNonThrowing(scriptPath);
        if (WriteDiagnostics(diagnostics, errors, scriptPath))
            return new Outcome(true, null);
        return result is FSharpChoice<Unit, Exception>.Choice2Of2 failed
            ? new Outcome(false, failed.Item)
            : new Outcome(false, null);
    }

    /// <summary>Prints errors and warnings; true when there was an error.</summary>
    private static bool WriteDiagnostics(FSharpDiagnostic[] diagnostics, TextWriter errors, string scriptPath)
    {
        var failed = false;
        foreach (var diagnostic in diagnostics.OrderBy(d => d.Severity == FSharpDiagnosticSeverity.Error ? 0 : 1))
        {
            if (diagnostic.Severity != FSharpDiagnosticSeverity.Error && diagnostic.Severity != FSharpDiagnosticSeverity.Warning)
                continue;
            var isError = diagnostic.Severity == FSharpDiagnosticSeverity.Error;
            failed |= isError;
            var file = string.IsNullOrEmpty(diagnostic.FileName) ? scriptPath : diagnostic.FileName;
            errors.WriteLine(DiagnosticWriter.Format(file, diagnostic.StartLine, diagnostic.StartColumn + 1,
                isError ? "error" : "warning", diagnostic.ErrorNumberText, diagnostic.Message));
        }
        return failed;
    }

    private static string Prelude()
    {
        var text = new StringBuilder();
        // Framework assemblies come from the reference assemblies FSI already uses; naming the runtime's
        // implementation copies again would give every BCL type two identities.
        var runtimeFolder = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var own = HostReferences.Assemblies
            .Append(typeof(KvnDb.Client.FSharp.KvnDbClientExtensions).Assembly) // options, lists and tuples for F#
            .Select(a => a.Location)
            .Where(l => Path.GetDirectoryName(l) != runtimeFolder)
            .Distinct();
        foreach (var assembly in own)
            text.Append("#r @\"").Append(assembly.Replace("\"", "\"\"", StringComparison.Ordinal)).Append("\"\n");
        foreach (var import in HostReferences.Imports.Append("KvnDb.Client.FSharp"))
            text.Append("open ").Append(import).Append('\n');
        text.Append("open type KvnDb.Scripts.FSharpGlobals\n");
        return text.ToString();
    }
}
