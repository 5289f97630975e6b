using Microsoft.Extensions.Logging;

namespace KvnDb.Hosting;

/// <summary>The logging every KvnDb program sets up: console (stderr), optional file, <c>-v</c> for debug.</summary>
public static class Logging
{
    public static ILoggerFactory Create(bool verbose, string? logFile)
    {
        var level = verbose ? LogLevel.Debug : LogLevel.Information;
        return LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(level);
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
            builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            if (logFile is not null)
                builder.AddProvider(new FileLoggerProvider(logFile) { MinimumLevel = level });
        });
    }
}
