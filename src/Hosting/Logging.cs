using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;

namespace KvnDb.Hosting;

/// <summary>
/// The logging every KvnDb program sets up: console (stderr, dated timestamps), optional file, <c>-v</c> for
/// debug. The file (<c>-l FILE</c>) is Serilog's file sink behind its async wrapper: a background thread
/// writes, so a slow disk never holds a logging thread, and the file rolls at 64 MiB keeping five
/// (<c>FILE</c>, then <c>FILE_001</c>, ... before the extension). ASP.NET Core's own lines (the listening
/// addresses Kestrel announces for every port, a line per HTTP request) are warnings-only unless <c>-v</c>.
/// </summary>
public static class Logging
{
    /// <summary>Where a log file rolls over.</summary>
    public const long FileSizeLimitBytes = 64L * 1024 * 1024;

    /// <summary>Log files kept, the current one included.</summary>
    public const int FilesKept = 5;

    public static ILoggerFactory Create(bool verbose, string? logFile)
    {
        var level = verbose ? LogLevel.Debug : LogLevel.Information;
        return LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(level);
            if (!verbose)
                builder.AddFilter("Microsoft", LogLevel.Warning);
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
            });
            builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            if (logFile is not null)
            {
                builder.AddSerilog(FileLogger(logFile, verbose), dispose: true);
                // AddSerilog lets its provider see every category; the ASP.NET Core rule above must hold for the file too.
                if (!verbose)
                    builder.AddFilter<Serilog.Extensions.Logging.SerilogLoggerProvider>("Microsoft", LogLevel.Warning);
            }
        });
    }

    /// <summary>The Serilog logger behind <c>-l FILE</c> (disposing it flushes what the async wrapper still holds).</summary>
    public static Serilog.Core.Logger FileLogger(string path, bool verbose, long fileSizeLimitBytes = FileSizeLimitBytes)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return new LoggerConfiguration()
            .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Information)
            .Enrich.With<EventIdEnricher>()
            .WriteTo.Async(sink => sink.File(full,
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} {Level:u4} {SourceContext}[{EventNumber}] {Message:lj}{NewLine}{Exception}",
                fileSizeLimitBytes: fileSizeLimitBytes,
                rollOnFileSizeLimit: true,
                retainedFileCountLimit: FilesKept,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture))
            .CreateLogger();
    }
}
