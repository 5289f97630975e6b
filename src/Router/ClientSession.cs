using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// A client connection after its hello: handles every complete frame of each read (run to
/// completion: validate, route, write to node channels), then flushes every touched channel once.
/// </summary>
internal sealed class ClientSession(long id, string remoteAddress, OutputChannel output, Cluster cluster, Action abort) : IReplyTarget, ITrackedClient
{
    /// <summary>
    /// Room a client body must leave under the frame limit (<see cref="WriteLimits.ForwardingHeadroom"/>).
    /// Without it, one write at the limit disconnects every node.
    /// </summary>
    public const int ForwardingHeadroom = WriteSequencer.ForwardingHeadroom;

    /// <summary>How long a stopping router waits for a backed-up TLS client's flush before it closes without the notice.</summary>
    private static readonly TimeSpan LastWordTimeout = TimeSpan.FromMilliseconds(100);

    private readonly int _maxBodySize = cluster.Options.MaxFrameSize - ForwardingHeadroom;
    private readonly ReplyWindow _window = new(cluster.Options.MaxInFlightPerClient, cluster.Options.ReplyBudgetBytes);
    private int _inFlight;
    private TaskCompletionSource? _capacity;

    /// <summary>When the client last sent anything (<see cref="Environment.TickCount64"/>), for the idle timeout.</summary>
    public long LastActivityMs { get; private set; } = Environment.TickCount64;

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Requests this client may have in flight now (<see cref="ReplyWindow"/>): at most <c>--max-inflight</c>.</summary>
    public int Window => _window.Limit;

    public bool HasRequestsInFlight => InFlight > 0;

    /// <summary>Closes the connection (idle timeout).</summary>
    public void Abort() => abort();

    public void Forward(in ReadOnlySequence<byte> frame, ulong requestId)
    {
        _window.Observe(frame.Length);
        cluster.ReplySizes.ObserveReply(frame.Length);
        Output.TryForward(frame, requestId);
        var parsed = FrameHeader.Read(frame);
        if (!parsed.HasMore || parsed.Status.IsError())
            Completed();
    }

    public void Status(Opcode opcode, ulong requestId, StatusCode status)
    {
        Output.WriteStatus(opcode, requestId, status);
        Completed();
    }

    public void Error(Opcode opcode, ulong requestId, StatusCode status, string message)
    {
        Output.WriteError(opcode, requestId, status, message);
        Completed();
    }

    public void Raw(Opcode opcode, ulong requestId, ReadOnlySpan<byte> body)
    {
        _window.Observe(body.Length + ProtocolLimits.HeaderSize);
        Output.WriteRaw(opcode, requestId, body);
        Completed();
    }

    /// <summary>The session may read the next request: it has room in its window and its output is draining.</summary>
    private bool MayRead => InFlight < _window.Limit && !Output.IsBackedUp;

    /// <summary>A paused session reads again once half its window is answered (not one request at a time) and its output drains.</summary>
    private bool MayResume => InFlight <= _window.Limit / 2 && !Output.IsBackedUp;

    /// <summary>A request's final reply went out: the window may widen, and a paused session may read again.</summary>
    private void Completed()
    {
        Interlocked.Decrement(ref _inFlight);
        _window.Completed(Output.IsBackedUp);
        if (MayResume)
            Interlocked.Exchange(ref _capacity, null)?.TrySetResult();
    }

    /// <summary>
    /// Waits, on this session's own read loop only, until it may read again: its output drained (the client reads
    /// its replies) and half its window is answered. Nothing shared waits for this: node links write the replies and
    /// move on (<see cref="OutputChannel"/>).
    /// </summary>
    private async Task WaitForCapacityAsync(CancellationToken cancellationToken)
    {
        while (!Output.IsClosed)
        {
            if (Output.IsBackedUp)
            {
                await Output.WhenDrained.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            var capacity = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _capacity, capacity);
            if (MayResume)
                return;
            await capacity.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public long Id { get; } = id;

    public string RemoteAddress { get; } = remoteAddress;

    public OutputChannel Output { get; } = output;

    public async Task RunAsync(PipeReader input, CancellationToken cancellationToken)
    {
        try
        {
            await FrameLoop.RunAsync(input, new Requests(this, new FlushSet()), _maxBodySize, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            cluster.Monitors.Unsubscribe(Id);
            if (cluster.Stopping.IsCancellationRequested)
            {
                // The client hears why its connection ends (the client library fails its requests with it), then the close;
                // a client whose output is backed up too: the replies still waiting in the router are dropped for it.
                await Output.SendLastAsync(0, static (writer, _) => ClosingNotice.Write(writer, StatusCode.Unavailable, "the router is stopping"),
                    LastWordTimeout).ConfigureAwait(false);
            }
            Output.Close();
        }
    }

    /// <summary>
    /// The session's frame handler: run each request to completion, pause while the client has its window in flight
    /// or leaves its output unread (the rest stays in the socket until replies drain), flush every touched channel
    /// once per read.
    /// </summary>
    private readonly struct Requests(ClientSession session, FlushSet flush) : IFrameHandler
    {
        public FrameAction OnFrame(in FrameHeader header, in ReadOnlySequence<byte> frame)
        {
            session.Expect(header, frame);
            if (!session.MayRead)
                return FrameAction.Pause;
            return session.Handle(header, frame, flush) ? FrameAction.Continue : FrameAction.Stop;
        }

        public ValueTask OnFrameAsync(FrameHeader header, ReadOnlySequence<byte> frame, CancellationToken cancellationToken) => default;

        public ValueTask OnBatchEndAsync(CancellationToken cancellationToken)
        {
            session.LastActivityMs = Environment.TickCount64;
            flush.Add(session.Output);
            flush.FlushAll();
            return default;
        }

        public ValueTask OnPausedAsync(CancellationToken cancellationToken) => new(session.WaitForCapacityAsync(cancellationToken));

        public void OnFrameTooLarge(in FrameHeader header) =>
            session.Output.WriteError(header.Opcode, header.RequestId, StatusCode.FrameTooLarge,
                $"frame body of {(uint)header.BodyLength} bytes is above the limit of {session._maxBodySize} bytes; closing");
    }

    /// <summary>
    /// Narrows the window to what this request's reply may weigh, before it is admitted (<see cref="ReplySizes"/>): a
    /// window widened on small replies does not let a burst of large ones onto the node links.
    /// </summary>
    private void Expect(in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        if (header.Opcode is not (Opcode.Get or Opcode.GetVersioned or Opcode.MultiGet or Opcode.ListKeys or Opcode.ScanKeys or Opcode.GetDelete
            or Opcode.GetExpire or Opcode.SetWhen or Opcode.Transaction or Opcode.Batch))
            return;
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        _window.Observe(cluster.ReplySizes.Estimate(header.Opcode, body.Span));
    }

    /// <summary>Routes one request; returns false when the connection must close (protocol violation).</summary>
    private bool Handle(in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        if (cluster.Monitors.IsActive && header.Opcode != Opcode.Monitor)
            Describe(header, frame);
        switch (header.Opcode)
        {
            case Opcode.Monitor:
                StartOrStopMonitor(header, frame);
                return true;
            case Opcode.Ping:
                Output.WriteStatus(Opcode.Ping, header.RequestId, StatusCode.Ok);
                return true;
            case Opcode.Info:
                Output.WriteRaw(Opcode.Info, header.RequestId, Encoding.UTF8.GetBytes(InfoReport.Build(cluster)));
                return true;
            case Opcode.Get or Opcode.Exists or Opcode.MultiGet or Opcode.ListKeys or Opcode.GetVersioned or Opcode.TimeToLive or Opcode.KeyCount
                or Opcode.ScanKeys:
                if (IsValid(header, frame))
                {
                    Interlocked.Increment(ref _inFlight);
                    cluster.SubmitRead(this, header, frame, flush);
                }
                return true;
            case Opcode.Set or Opcode.Delete or Opcode.MultiSet or Opcode.SetWhen or Opcode.GetDelete or Opcode.Increment
                or Opcode.IncrementFloat or Opcode.Append or Opcode.SetRange or Opcode.Transaction or Opcode.Expire
                or Opcode.GetExpire or Opcode.CopyKey or Opcode.FlushKeys or Opcode.Batch:
                if (IsValid(header, frame, learnSizes: true))
                {
                    // A NoReply write never gets a final reply, so it never counts as in flight.
                    if ((header.Flags & FrameFlags.NoReply) == 0)
                        Interlocked.Increment(ref _inFlight);
                    cluster.SubmitWrite(this, header, frame, flush);
                }
                return true;
            case Opcode.Hello:
                Output.WriteError(header.Opcode, header.RequestId, StatusCode.ProtocolError, "hello was already done on this connection");
                return true;
            case Opcode.Digest:
                Interlocked.Increment(ref _inFlight);
                cluster.SubmitDigest(this, header, flush);
                return true;
            case Opcode.SlotControl:
                if (IsValid(header, frame))
                {
                    Interlocked.Increment(ref _inFlight);
                    cluster.Migrations.Submit(this, header, frame);
                }
                return true;
            case Opcode.GroupControl:
                if (IsValid(header, frame))
                {
                    Interlocked.Increment(ref _inFlight);
                    cluster.Migrations.SubmitGroupControl(this, header, frame);
                }
                return true;
            case Opcode.SyncBegin or Opcode.SyncEnd or Opcode.SnapshotRead or Opcode.SnapshotApply or Opcode.NodeStatus or Opcode.TimeMark
                or Opcode.MigrationRead or Opcode.MigrationApply or Opcode.FlushSlots:
                Output.WriteError(header.Opcode, header.RequestId, StatusCode.NotAuthorized, $"{header.Opcode} is for node links only");
                return true;
            default:
                cluster.Stats.Error();
                Output.WriteError(header.Opcode, header.RequestId, StatusCode.UnknownOpcode,
                    $"unknown opcode 0x{(byte)header.Opcode:x2}; closing");
                return false;
        }
    }

    private void Describe(in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        cluster.Monitors.Publish(Id, RemoteAddress, header, body.Span);
    }

    /// <summary><c>[u8 1]</c> starts this session's monitor stream (answered by its frames), <c>[u8 0]</c> ends it.</summary>
    private void StartOrStopMonitor(in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        if (body.Span is [MonitorEvent.Stop])
        {
            cluster.Monitors.Unsubscribe(Id);
            return;
        }
        if (body.Span is not [MonitorEvent.Start])
            Output.WriteError(Opcode.Monitor, header.RequestId, StatusCode.ProtocolError, "monitor body is one byte: 1 to start, 0 to stop");
        else
        {
            cluster.Monitors.Unsubscribe(Id); // a second start replaces the first
            cluster.Monitors.Subscribe(Id, Output, header.RequestId);
        }
    }

    /// <summary>Checks the body's shape and key sizes; a bad request is answered alone and the connection lives.</summary>
    private bool IsValid(in FrameHeader header, in ReadOnlySequence<byte> frame, bool learnSizes = false)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        var status = BodyValidator.Validate(header.Opcode, body.Span, cluster.Options.MaxKeySize);
        if (status == StatusCode.Ok)
        {
            if (learnSizes)
                cluster.ReplySizes.LearnWrite(header.Opcode, body.Span);
            return true;
        }
        cluster.Stats.Error();
        var message = status == StatusCode.KeyTooLarge
            ? $"key is above the limit of {cluster.Options.MaxKeySize} bytes"
            : $"malformed {header.Opcode} body";
        Output.WriteError(header.Opcode, header.RequestId, status, message);
        return false;
    }
}
