using System.Buffers;
using System.Threading.Channels;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router.Groups;

/// <summary>
/// One online slot migration, from its durable record to its end (docs/architecture.md, "Slot migration"):
/// <list type="number">
/// <item><b>Copy</b>: the target's moving slots are emptied (a sequenced FlushSlots, so leftovers of an earlier attempt
/// go); then, at one position P of the source's log, under its lock, the relay (<see cref="MigrationRelay"/>) opens
/// there and a donor of the source is asked for the first chunk of a snapshot of the moving slots at P. Writes on the
/// moving slots go on in the source (it owns them and answers the client) and the relay carries each to the target's
/// log. Each chunk, read by the donor at a position H, is appended to the target's log right after the relayed writes
/// up to H (a sequenced MigrationApply): the target's nodes apply it exactly where the donor read it, so a record is the
/// key as the next relayed write must find it; a relayed write that raced the copy is applied after the record older
/// than it, never overwritten by it. Keys written after P are sent again by the donor once its scan is through (as a
/// record or a tombstone), so a write evaluated by the target against a key not copied yet is corrected too.</item>
/// <item><b>Switch</b>: the lane is frozen (writes on the moving slots wait, parked), the relay carries the rest, a barrier
/// write in the target waits until its in-sync members applied everything, then one durable metadata change gives the
/// slots to the target (record: switched), and under both sequencer locks the maps are swapped; the parked writes go to
/// the target.</item>
/// <item><b>Cleanup</b>: a FlushSlots in the source deletes the moved keys at one position of its log; then the record goes.</item>
/// </list>
/// A restart resumes from the record: copying starts the copy over, switched only cleans up.
/// </summary>
internal sealed partial class SlotMigration
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly Cluster _cluster;
    private readonly ILogger _logger;
    private readonly Channel<(NodeLink Donor, ulong SnapshotId, byte[] Body)> _chunks = Channel.CreateUnbounded<(NodeLink, ulong, byte[])>();
    private MigrationRelay? _relay;
    private ulong _snapshotId;
    private long _records;
    private long _bytes;
    private long _chunkCount;
    private int _attempts;
    private long _lastProgress;
    private long _listingEpoch;

    /// <summary>How long the cleanup waits for listings that started before the switch (they count the moved keys as the source's).</summary>
    private static readonly TimeSpan ListingWait = TimeSpan.FromSeconds(30);

    public SlotMigration(Cluster cluster, MigrationRecord record, ILogger logger)
    {
        _cluster = cluster;
        _logger = logger;
        Record = record;
        From = cluster.GroupNamed(record.From) ?? throw new InvalidDataException($"the migration's source group '{record.From}' is not a group of this router");
        To = cluster.GroupNamed(record.To) ?? throw new InvalidDataException($"the migration's target group '{record.To}' is not a group of this router");
        Slots = [.. record.SlotNumbers()];
        SlotSetBytes = SlotSet.Of(Slots);
        Lane = new MigrationLane(cluster);
        State = record.State == MigrationState.Switched ? "cleaning" : "waiting";
        StartedAt = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    public MigrationRecord Record { get; private set; }

    public ReplicaGroup From { get; }

    public ReplicaGroup To { get; }

    public IReadOnlyList<int> Slots { get; }

    public byte[] SlotSetBytes { get; }

    public MigrationLane Lane { get; }

    /// <summary>waiting, copying, switching, cleaning, done (for info).</summary>
    public string State { get; private set; }

    public long StartedAt { get; }

    public long RecordsCopied => Volatile.Read(ref _records);

    public long BytesCopied => Volatile.Read(ref _bytes);

    public long Relayed => Volatile.Read(ref _relay)?.Relayed ?? 0;

    /// <summary>A write went to the lane: the relay carries it soon (one wake-up however many writes came).</summary>
    public void Signal() => _signal.Writer.TryWrite(true);

    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>A donor's chunk (on its link's read loop): copied out of the pipe and handed to the copy.</summary>
    public void OnChunk(NodeLink donor, in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        if (header.Status.IsError())
        {
            LogChunkFailed(donor.Id, ErrorReply.Read(frame.Slice(ProtocolLimits.HeaderSize)));
            _chunks.Writer.TryWrite((donor, header.RequestId & ~SyncMessages.ControlIdBit, []));
            return;
        }
        _chunks.Writer.TryWrite((donor, header.RequestId & ~SyncMessages.ControlIdBit, frame.Slice(ProtocolLimits.HeaderSize).ToArray()));
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        var pump = PumpAsync(stopping);
        try
        {
            if (Record.State == MigrationState.Copying)
            {
                while (true)
                {
                    await WaitReadyAsync(From, stopping).ConfigureAwait(false);
                    await WaitReadyAsync(To, stopping).ConfigureAwait(false);
                    try
                    {
                        if (await CopyAsync(stopping).ConfigureAwait(false) && await SwitchAsync().ConfigureAwait(false))
                            break;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogAttemptFailed(ex);
                    }
                    await Task.Delay(RetryDelay, stopping).ConfigureAwait(false);
                }
            }
            await CleanupAsync(stopping).ConfigureAwait(false);
            State = "done";
            LogDone(Record.From, Record.To, Slots.Count, RecordsCopied, BytesCopied / (1024.0 * 1024.0), Seconds());
        }
        finally
        {
            _relay?.Dispose();
            State = State == "done" ? "done" : "stopped";
            Signal();
            await pump.ConfigureAwait(false);
        }
    }

    /// <summary>Carries relayed writes as they come (signalled by the lane; a periodic pass catches anything else).</summary>
    private async Task PumpAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested && State is not ("done" or "stopped"))
            {
                await Task.WhenAny(_signal.Reader.WaitToReadAsync(stopping).AsTask(), Task.Delay(TimeSpan.FromMilliseconds(20), stopping)).ConfigureAwait(false);
                stopping.ThrowIfCancellationRequested();
                _signal.Reader.TryRead(out _); // before the pass: a write after it wakes the next one
                Volatile.Read(ref _relay)?.Pump();
            }
        }
        catch (OperationCanceledException)
        {
            // The router stops; the record resumes the migration.
        }
    }

    private static async Task WaitReadyAsync(ReplicaGroup group, CancellationToken stopping)
    {
        while (!group.Membership.IsAdopted || !Array.Exists(group.Nodes.Serving, n => n.IsMember))
            await Task.Delay(TimeSpan.FromMilliseconds(100), stopping).ConfigureAwait(false);
    }

    /// <summary>One attempt to fill the target; true once its nodes hold the moving slots exactly (kept so by the relay).</summary>
    private async Task<bool> CopyAsync(CancellationToken stopping)
    {
        _attempts++;
        State = "copying";
        Interlocked.Exchange(ref _records, 0);
        Interlocked.Exchange(ref _bytes, 0);
        var routes = InstallLane();
        var donor = PickDonor();
        if (donor is null)
            return false;
        // An earlier attempt's relay stops first (disposing waits for a pass in progress): nothing of it may follow the flush below.
        Volatile.Read(ref _relay)?.Dispose();
        // Empty the target's moving slots before anything is carried there (a router restart or a lost donor leaves a partial copy).
        var emptied = InternalWrite.FlushSlots(To, SlotSetBytes);
        _snapshotId = From.Syncs.NextSyncId();
        MigrationRelay relay;
        lock (From.Sequencer.SyncRoot)
        {
            // One position for both: the relay carries every write after it, the donor's snapshot is read at it
            // (the relay is not shared yet: its lock is not needed).
            relay = new MigrationRelay(From, To, routes.Map, routes.Lane);
            AskChunk(relay, donor);
        }
        Volatile.Write(ref _relay, relay);
        LogCopyStarted(Record.From, Record.To, Slots.Count, donor.Id, _attempts);
        if (await emptied.Completion.ConfigureAwait(false) is not StatusCode.Ok)
        {
            LogWriteFailed("FlushSlots in the target", emptied.Message ?? "");
            return false;
        }
        while (true)
        {
            var chunk = await NextChunkAsync(donor, stopping).ConfigureAwait(false);
            if (chunk is null)
                return false;
            if (!SnapshotChunkHeader.TryRead(chunk, out var header) || chunk.Length > To.Sequencer.MaxBodySize)
            {
                LogWriteFailed("a migration chunk", $"the donor's chunk of {chunk.Length} bytes is malformed or above the largest write the target takes");
                return false;
            }
            InternalWrite applied;
            lock (relay.SyncRoot)
            {
                relay.PumpLocked(); // every write up to the donor's position, then the chunk read there
                applied = InternalWrite.Submit(To, ApplyFrame(chunk));
                relay.Release();
            }
            Signal();
            if (await applied.Completion.ConfigureAwait(false) is not StatusCode.Ok)
            {
                LogWriteFailed("a migration chunk in the target", applied.Message ?? "");
                return false;
            }
            if (relay.NeedsRestart)
                return false;
            Interlocked.Add(ref _records, header.Count);
            Interlocked.Add(ref _bytes, chunk.Length);
            _chunkCount++;
            LogProgressWhenDue(header.Done);
            await StepAsync(MigrationStep.ChunkApplied).ConfigureAwait(false);
            if (header.Done)
                break;
            lock (relay.SyncRoot)
            {
                lock (From.Sequencer.SyncRoot)
                    AskChunk(relay, donor);
            }
        }
        // The target's expiry scheduler learns when the copied keys expire.
        foreach (var node in To.Nodes.Serving)
            Expiry.ExpiryScheduler.Probe(node);
        return true;
    }

    /// <summary>Routes writes on the moving slots through the lane (once per migration).</summary>
    private RouteTable InstallLane()
    {
        var current = _cluster.Routes;
        if (current.Migration == this)
            return current;
        var map = _cluster.Slots.WithLane(Slots, out var lane);
        var routes = new RouteTable(map, this, lane);
        _cluster.Routes = routes;
        return routes;
    }

    private NodeLink? PickDonor()
    {
        NodeLink? best = null;
        foreach (var node in From.Nodes.Serving)
            if (node.IsMember && (best is null || node.Outstanding < best.Outstanding))
                best = node;
        return best;
    }

    /// <summary>The next chunk is read at the source's head now; the relay carries nothing after it until the chunk is appended.</summary>
    private void AskChunk(MigrationRelay relay, NodeLink donor)
    {
        var head = From.Sequencer.Sequence;
        relay.HoldAfter(head);
        donor.ExpectChunk(); // before it can be answered
        donor.Sender.TrySendAfter(head, (Id: _snapshotId, Bytes: _cluster.Options.SnapshotChunkBytes, Set: SlotSetBytes), static (writer, s) =>
            MigrationRead.Write(writer, SyncMessages.ControlIdBit | s.Id, s.Id, s.Bytes, s.Set));
        donor.Sender.Flush();
    }

    /// <summary>The donor's next chunk of this attempt, or null when the donor left (the copy starts over).</summary>
    private async Task<byte[]?> NextChunkAsync(NodeLink donor, CancellationToken stopping)
    {
        while (true)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            wait.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                var (from, id, body) = await _chunks.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
                if (from != donor || id != _snapshotId)
                    continue; // of an earlier attempt
                return body.Length == 0 ? null : body;
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                if (donor.Sender.IsClosed || !donor.IsMember)
                {
                    LogDonorLost(donor.Id);
                    return null;
                }
            }
        }
    }

    private static byte[] ApplyFrame(byte[] chunk)
    {
        var frame = new byte[ProtocolLimits.HeaderSize + chunk.Length];
        new FrameHeader(chunk.Length, Opcode.MigrationApply, FrameFlags.None, StatusCode.Ok, 1).Write(frame);
        chunk.CopyTo(frame.AsSpan(ProtocolLimits.HeaderSize));
        return frame;
    }

    /// <summary>Gives the slots to the target in one durable change; false (the lane open again) when it could not be done now.</summary>
    private async Task<bool> SwitchAsync()
    {
        State = "switching";
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await Lane.FreezeAsync().ConfigureAwait(false);
        var relay = Volatile.Read(ref _relay)!;
        relay.Pump(); // every write the source sequenced on the moving slots is in the target's log now
        if (relay.NeedsRestart)
        {
            Lane.Reopen();
            return false;
        }
        var barrier = InternalWrite.FlushSlots(To, new byte[SlotSet.Size]);
        if (await barrier.Completion.ConfigureAwait(false) is not StatusCode.Ok)
        {
            LogWriteFailed("the switch's barrier in the target", barrier.Message ?? "");
            Lane.Reopen();
            return false;
        }
        var switched = _cluster.Slots.With(Slots, To.Index);
        var record = Record with { State = MigrationState.Switched };
        try
        {
            await _cluster.Metadata.ChangeAsync(d => d with { Slots = switched.ToRanges(), Migration = record }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            LogSwitchFailed(ex.Message);
            Lane.Reopen();
            return false;
        }
        Record = record;
        lock (From.Sequencer.SyncRoot)
        {
            lock (To.Sequencer.SyncRoot)
            {
                _cluster.Slots = switched;
                _cluster.Routes = RouteTable.Plain(switched);
            }
        }
        _listingEpoch = _cluster.Migrations.Listings.Advance(); // listings from now on read the switched map
        await Lane.CloseAsync().ConfigureAwait(false);
        relay.Dispose();
        LogSwitched(Record.From, Record.To, Slots.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return true;
    }

    /// <summary>The source deletes the moved keys at one position of its log; then the record goes.</summary>
    private async Task CleanupAsync(CancellationToken stopping)
    {
        State = "cleaning";
        await StepAsync(MigrationStep.Switched).ConfigureAwait(false);
        if (!await _cluster.Migrations.Listings.WaitForOlderAsync(_listingEpoch, ListingWait, stopping).ConfigureAwait(false))
            LogListingsStillRunning(ListingWait.TotalSeconds);
        while (true)
        {
            await WaitReadyAsync(From, stopping).ConfigureAwait(false);
            var flush = InternalWrite.FlushSlots(From, SlotSetBytes);
            if (await flush.Completion.ConfigureAwait(false) == StatusCode.Ok)
                break;
            LogWriteFailed("FlushSlots in the source", flush.Message ?? "");
            await Task.Delay(RetryDelay, stopping).ConfigureAwait(false);
        }
        await _cluster.Metadata.ChangeAsync(d => d with { Migration = null }).ConfigureAwait(false);
    }

    private Task StepAsync(MigrationStep step) => _cluster.Migrations.StepHook?.Invoke(step) ?? Task.CompletedTask;

    private void LogProgressWhenDue(bool done)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!done && System.Diagnostics.Stopwatch.GetElapsedTime(_lastProgress, now) < ProgressInterval)
            return;
        _lastProgress = now;
        var seconds = Seconds();
        LogProgress(Record.From, Record.To, RecordsCopied, BytesCopied / (1024.0 * 1024.0), RecordsCopied / seconds, _chunkCount, Relayed, done);
    }

    private double Seconds() => Math.Max(1e-3, System.Diagnostics.Stopwatch.GetElapsedTime(StartedAt).TotalSeconds);

    [LoggerMessage(110, LogLevel.Information, "Migration {From} -> {To}: copying {Slots} slots from donor node {DonorId} (attempt {Attempt})")]
    private partial void LogCopyStarted(string from, string to, int slots, int donorId, int attempt);

    [LoggerMessage(111, LogLevel.Information, "Migration {From} -> {To}: {Records} records copied, {MiB:0.0} MiB, {Rate:0} records/s, {Chunks} chunks, {Relayed} writes relayed, copy done: {Done}")]
    private partial void LogProgress(string from, string to, long records, double miB, double rate, long chunks, long relayed, bool done);

    [LoggerMessage(112, LogLevel.Information, "Migration {From} -> {To}: switched {Slots} slots ({Milliseconds:0.0} ms with writes to them parked)")]
    private partial void LogSwitched(string from, string to, int slots, double milliseconds);

    [LoggerMessage(113, LogLevel.Information, "Migration {From} -> {To} done: {Slots} slots, {Records} records, {MiB:0.0} MiB in {Seconds:0.0} s")]
    private partial void LogDone(string from, string to, int slots, long records, double miB, double seconds);

    [LoggerMessage(114, LogLevel.Warning, "Migration: {What} failed ({Message}); trying again")]
    private partial void LogWriteFailed(string what, string message);

    [LoggerMessage(115, LogLevel.Warning, "Migration: donor node {DonorId} left; the copy starts over")]
    private partial void LogDonorLost(int donorId);

    [LoggerMessage(116, LogLevel.Warning, "Migration: donor node {DonorId} failed a chunk: {Message}")]
    private partial void LogChunkFailed(int donorId, string message);

    [LoggerMessage(118, LogLevel.Error, "Migration: an attempt failed; it starts over")]
    private partial void LogAttemptFailed(Exception exception);

    [LoggerMessage(120, LogLevel.Warning, "Migration: key listings that started before the switch still run after {Seconds} s; the source deletes the moved keys now (they may miss them)")]
    private partial void LogListingsStillRunning(double seconds);

    [LoggerMessage(117, LogLevel.Warning, "Migration: the switch could not be made durable ({Message}); writes go on in the source and the switch is tried again")]
    private partial void LogSwitchFailed(string message);
}
