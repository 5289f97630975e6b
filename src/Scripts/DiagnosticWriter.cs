using System.Globalization;
using Microsoft.CodeAnalysis;

namespace KvnDb.Scripts;

/// <summary>Prints compiler diagnostics the way compilers and editors expect: <c>file(line,col): error CS0103: message</c>.</summary>
internal static class DiagnosticWriter
{
    public static string Format(string file, int line, int column, string severity, string id, string message) =>
        string.Create(CultureInfo.InvariantCulture, $"{file}({line},{column}): {severity} {id}: {message}");

    public static string Format(Diagnostic diagnostic, string scriptPath)
    {
        var severity = diagnostic.Severity == DiagnosticSeverity.Error ? "error" : "warning";
        var message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        if (!diagnostic.Location.IsInSource)
            return $"{scriptPath}: {severity} {diagnostic.Id}: {message}";
        var span = diagnostic.Location.GetMappedLineSpan();
        var file = string.IsNullOrEmpty(span.Path) ? scriptPath : span.Path;
        return Format(file, span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1, severity, diagnostic.Id, message);
    }
}
