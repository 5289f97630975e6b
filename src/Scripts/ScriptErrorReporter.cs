using System.Diagnostics;
using System.Reflection;

namespace KvnDb.Scripts;

/// <summary>Turns an exception that escaped a script into one line naming the script line that threw.</summary>
internal static class ScriptErrorReporter
{
    public static Exception Unwrap(Exception exception)
    {
        while (true)
        {
            switch (exception)
            {
                case AggregateException { InnerExceptions.Count: 1 } aggregate:
                    exception = aggregate.InnerExceptions[0];
                    continue;
                case TargetInvocationException { InnerException: { } inner }:
                    exception = inner;
                    continue;
                default:
                    return exception;
            }
        }
    }

    /// <summary><c>file(line,col): error: Type: message</c>, or without the location when no script frame has one.</summary>
    public static string Format(Exception exception, string scriptPath)
    {
        exception = Unwrap(exception);
        var frame = FindScriptFrame(exception);
        var what = $"{exception.GetType().Name}: {exception.Message}";
        return frame is null
            ? $"{scriptPath}: error: {what}"
            : $"{frame.Value.File}({frame.Value.Line},{Math.Max(1, frame.Value.Column)}): error: {what}";
    }

    /// <summary>The innermost stack frame that lies in a script file (.csx or .fsx), from the portable PDB line info.</summary>
    public static (string File, int Line, int Column)? FindScriptFrame(Exception exception)
    {
        foreach (var frame in new StackTrace(exception, fNeedFileInfo: true).GetFrames())
        {
            var file = frame.GetFileName();
            if (file is null || frame.GetFileLineNumber() <= 0)
                continue;
            if (file.EndsWith(".csx", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".fsx", StringComparison.OrdinalIgnoreCase))
                return (file, frame.GetFileLineNumber(), frame.GetFileColumnNumber());
        }
        return null;
    }
}
