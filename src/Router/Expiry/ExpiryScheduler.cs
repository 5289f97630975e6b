using System.Buffers;
using System.IO.Pipelines;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router.Expiry;

/// <summary>
/// Removes expired keys for real without the router holding any per-key state: when a key may be due
/// (a write set an expiry, a node joined with data of its own, or a node's last mark reply named the next
/// expiry), it appends a <see cref="Opcode.TimeMark"/> to the log, a sequenced write carrying the router's
/// time; every node deletes the keys expired at that time, at that sequence, so replicas stay equal.
/// Each mark's reply names the next expiry the nodes hold, and the next mark waits for it. One mark in
/// flight at a time. Reads never wait for a mark: they carry the router's time and skip expired keys.
/// </summary>
internal sealed partial class ExpiryScheduler(RouterOptions options, WriteSequencer sequencer, ILogger<ExpiryScheduler> logger)
    : IReplyTarget, IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _frame = new byte[ProtocolLimits.HeaderSize];
    private readonly ILogger _logger = logger;
    private Task _loop = Task.CompletedTask;
    private long _nextDue = long.MaxValue;
    private long _dueSinceMark = long.MaxValue;
    private bool _markInFlight;
    private ulong _marks;
    private long _removed;

    /// <summary>Marks sent so far.</summary>
    public ulong Marks => Volatile.Read(ref _marks);

    /// <summary>Keys the nodes reported removed (as the majority reported them).</summary>
    public long Removed => Volatile.Read(ref _removed);

    /// <summary>The earliest expiry the router knows of (Unix ms), <see cref="long.MaxValue"/> when none.</summary>
    public long NextDue
    {
        get
        {
            lock (_lock)
                return _nextDue;
        }
    }

    /// <summary>Never written: a mark's reply is read in <see cref="Forward"/>, not sent anywhere.</summary>
    public OutputChannel Output { get; } = new(new Pipe().Writer);

    public void Start()
    {
        if (options.ExpiryInterval > TimeSpan.Zero)
            _loop = RunAsync();
    }

    /// <summary>A write may make a key due at <paramref name="due"/> (called under the sequencer lock).</summary>
    public void OnExpirySet(long due)
    {
        lock (_lock)
        {
            _nextDue = Math.Min(_nextDue, due);
            if (_markInFlight)
                _dueSinceMark = Math.Min(_dueSinceMark, due);
        }
    }

    /// <summary>
    /// A node was admitted with data the router knows nothing about: ask it, outside the write stream,
    /// when its next key expires (a TimeMark with a control id; it removes nothing). The answer comes to <see cref="OnProbeReply"/>.
    /// </summary>
    public static void Probe(NodeLink node)
    {
        node.ExpectProbe(); // before it can be answered: the link accepts one answer per probe sent
        node.Sender.TrySend(0, static (writer, _) =>
            FrameWriter.WriteHeaderOnly(writer, new FrameHeader(0, Opcode.TimeMark, FrameFlags.None, StatusCode.Ok, SyncMessages.ControlIdBit | ProbeId)));
        node.Sender.Flush();
    }

    /// <summary>The control id of expiry probes (sync ids count up from 1 and never reach it).</summary>
    public const ulong ProbeId = (1UL << 62) - 1;

    public void OnProbeReply(in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        if (header.Status == StatusCode.Ok && TimeMarkReply.TryRead(body.Span, out _, out var nextDue) && nextDue != 0)
            OnExpirySet(nextDue);
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(options.ExpiryInterval, options.Clock);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
                Check();
        }
        catch (OperationCanceledException)
        {
            // Router stopping.
        }
    }

    /// <summary>Sends a mark when a key is due (a key expires once the time is past its expiry); public for tests.</summary>
    public void Check()
    {
        if (sequencer.Gating == 0)
            return; // no in-sync node takes writes: the mark would only fail
        var now = sequencer.Clock.Now();
        lock (_lock)
        {
            if (_markInFlight || now <= _nextDue)
                return;
            _markInFlight = true;
            _dueSinceMark = long.MaxValue;
        }
        Interlocked.Increment(ref _marks);
        var header = new FrameHeader(0, Opcode.TimeMark, FrameFlags.None, StatusCode.Ok, Marks);
        header.Write(_frame);
        var flush = new FlushSet();
        sequencer.SubmitWrite(this, header, new ReadOnlySequence<byte>(_frame), flush);
        flush.FlushAll();
    }

    /// <summary>The mark's outcome (the majority's, once every in-sync node applied it).</summary>
    public void Forward(in ReadOnlySequence<byte> frame, ulong requestId)
    {
        var header = FrameHeader.Read(frame);
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        if (header.Status != StatusCode.Ok || !TimeMarkReply.TryRead(body.Span, out var removed, out var nextDue))
        {
            Finished(retry: true);
            LogMarkFailed(header.Status);
            return;
        }
        Interlocked.Add(ref _removed, removed);
        lock (_lock)
        {
            _nextDue = Math.Min(nextDue == 0 ? long.MaxValue : nextDue, _dueSinceMark);
            _markInFlight = false;
        }
        if (removed > 0)
            LogRemoved(removed);
    }

    public void Status(Opcode opcode, ulong requestId, StatusCode status) => Finished(retry: true);

    public void Error(Opcode opcode, ulong requestId, StatusCode status, string message)
    {
        Finished(retry: true);
        LogMarkFailed(status);
    }

    public void Raw(Opcode opcode, ulong requestId, ReadOnlySpan<byte> body) => Finished(retry: true);

    /// <summary>The mark ended without an outcome: the keys it was for are still due, so the next check tries again.</summary>
    private void Finished(bool retry)
    {
        lock (_lock)
        {
            _markInFlight = false;
            if (retry)
                _nextDue = long.MinValue;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    [LoggerMessage(90, LogLevel.Debug, "Time mark removed {Removed} expired keys")]
    private partial void LogRemoved(int removed);

    [LoggerMessage(91, LogLevel.Debug, "Time mark got no outcome ({Status}); trying again at the next check")]
    private partial void LogMarkFailed(StatusCode status);
}
