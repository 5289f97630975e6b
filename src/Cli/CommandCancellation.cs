namespace KvnDb.Cli;

/// <summary>
/// Ctrl+C as redis-cli treats it: while a command runs (a monitor, <c>--stat</c>, a long listing, a
/// repeat), it stops that command; otherwise it ends the program the default way.
/// </summary>
internal sealed class CommandCancellation : IDisposable
{
    private readonly Lock _lock = new();
    private CancellationTokenSource? _running;

    public CommandCancellation() => Console.CancelKeyPress += OnCancelKeyPress;

    /// <summary>A token Ctrl+C cancels until the returned scope ends.</summary>
    public CancellationTokenSource BeginCommand(CancellationToken outer)
    {
        var running = CancellationTokenSource.CreateLinkedTokenSource(outer);
        lock (_lock)
            _running = running;
        return running;
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        lock (_lock)
        {
            if (_running is null || _running.IsCancellationRequested)
                return;
            e.Cancel = true;
            try
            {
                _running.Cancel();
            }
            catch (ObjectDisposedException)
            {
                e.Cancel = false; // the command had just ended: leave as if none ran
            }
        }
    }

    public void Dispose() => Console.CancelKeyPress -= OnCancelKeyPress;
}
