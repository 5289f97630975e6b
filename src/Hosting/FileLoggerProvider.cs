using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace KvnDb.Hosting;

/// <summary>
/// Appends log lines to a file (<c>-l/--logfile</c>). When the file passes its size limit it is
/// renamed to <c>FILE.1</c> (older ones shift up to <c>FILE.N</c>) and a new file starts.
/// </summary>
public sealed class FileLoggerProvider : ILoggerProvider
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _maxFiles;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, FileLogger> _loggers = new();
    private StreamWriter _writer;

    public FileLoggerProvider(string path, long maxBytes = 64L * 1024 * 1024, int maxFiles = 5)
    {
        _path = Path.GetFullPath(path);
        _maxBytes = maxBytes;
        _maxFiles = maxFiles;
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        _writer = Open();
    }

    public LogLevel MinimumLevel { get; init; } = LogLevel.Information;

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, name => new FileLogger(this, name));

    public void Dispose()
    {
        lock (_gate)
            _writer.Dispose();
    }

    private StreamWriter Open() => new(new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };

    private void Write(string line)
    {
        lock (_gate)
        {
            _writer.WriteLine(line);
            if (_writer.BaseStream.Length >= _maxBytes)
                Rotate();
        }
    }

    private void Rotate()
    {
        _writer.Dispose();
        for (var i = _maxFiles - 1; i >= 1; i--)
        {
            var from = i == 1 ? _path : $"{_path}.{i - 1}";
            if (File.Exists(from))
                File.Move(from, $"{_path}.{i}", overwrite: true);
        }
        _writer = Open();
    }

    private sealed class FileLogger(FileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider.MinimumLevel && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
                return;
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {ShortLevel(logLevel)} {category}[{eventId.Id}] {formatter(state, exception)}");
            if (exception is not null)
                line += Environment.NewLine + exception;
            provider.Write(line);
        }

        private static string ShortLevel(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
