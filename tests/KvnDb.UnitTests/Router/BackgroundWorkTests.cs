using KvnDb.Router;
using Microsoft.Extensions.Logging;

namespace KvnDb.UnitTests.Router;

public sealed class BackgroundWorkTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_fault_is_logged_with_its_exception_and_the_task_is_forgotten()
    {
        var logger = new RecordingLogger();
        await using var work = new BackgroundWork(logger);
        var failure = new InvalidOperationException("disk gone");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Start("a failing job", async _ =>
        {
            await release.Task.ConfigureAwait(false);
            throw failure;
        });
        Assert.Equal(1, work.Running);
        release.SetResult();
        var logged = await logger.Errors.Task.WaitAsync(Timeout);
        Assert.Same(failure, logged);
        await Eventually.WaitAsync(() => work.Running == 0, Timeout, "the failed task forgotten");
    }

    [Fact]
    public async Task A_synchronous_throw_is_logged_too()
    {
        var logger = new RecordingLogger();
        await using var work = new BackgroundWork(logger);
        work.Start("a job that throws before its first await", _ => throw new IOException("no space left"));
        Assert.IsType<IOException>(await logger.Errors.Task.WaitAsync(Timeout));
        Assert.Equal(0, work.Running);
    }

    [Fact]
    public async Task Dispose_cancels_the_running_work_and_waits_for_it_to_end()
    {
        var logger = new RecordingLogger();
        var work = new BackgroundWork(logger);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = false;
        work.Start("a long wait", async cancellationToken =>
        {
            started.SetResult();
            var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await never.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            ended = true; // never: the wait only ends by cancellation
        });
        await started.Task.WaitAsync(Timeout);
        await work.DisposeAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(0, work.Running);
        Assert.False(ended);
        Assert.False(logger.Errors.Task.IsCompleted); // a cancellation at stop is not a failure
    }

    [Fact]
    public async Task Nothing_starts_once_stopping()
    {
        var work = new BackgroundWork(new RecordingLogger());
        await work.DisposeAsync();
        var ran = false;
        work.Start("too late", _ =>
        {
            ran = true;
            return Task.CompletedTask;
        });
        Assert.False(ran);
        Assert.Equal(0, work.Running);
    }

    /// <summary>Keeps the first error's exception: the test checks what failed, not the log text.</summary>
    private sealed class RecordingLogger : ILogger
    {
        public TaskCompletionSource<Exception?> Errors { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error)
                Errors.TrySetResult(exception);
        }
    }
}
