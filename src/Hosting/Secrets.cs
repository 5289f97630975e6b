using System.CommandLine;

namespace KvnDb.Hosting;

/// <summary>
/// Passwords kept off the command line (where <c>ps</c> shows them): from a file (<c>--password-file</c>,
/// its first line) or an environment variable. The order: the option itself, the file, the variable.
/// </summary>
public static class Secrets
{
    /// <summary>An option naming a file that holds a secret; checked readable while parsing, so a bad path is a clear error.</summary>
    public static Option<string?> FileOption(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description };
        option.Validators.Add(result =>
        {
            var path = result.GetValueOrDefault<string?>();
            if (path is null)
                return;
            try
            {
                _ = ReadFile(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                result.AddError($"{name} {path}: {ex.Message}");
            }
        });
        return option;
    }

    /// <summary><paramref name="value"/>, else the first line of <paramref name="file"/>, else <c>$<paramref name="variable"/></c>, else null.</summary>
    public static string? Resolve(string? value, string? file, string variable) =>
        value ?? (file is null ? null : ReadFile(file)) ?? NonEmpty(Environment.GetEnvironmentVariable(variable));

    /// <summary>The first line of the file, without its line end (a trailing newline is not part of a password).</summary>
    public static string ReadFile(string path)
    {
        using var reader = new StreamReader(path);
        return reader.ReadLine() ?? "";
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
