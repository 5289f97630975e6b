using System.Buffers;
using System.Globalization;
using System.Text;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router.Groups;

/// <summary>
/// Starts slot migrations (<see cref="Opcode.SlotControl"/>, <c>kvndb slots move FROM TO --count N</c>), one at a
/// time, resumes the one a restarted router finds in its metadata, hands donors' chunks to it, and describes it for
/// <c>info</c>. A router of one group never has one.
/// </summary>
internal sealed partial class MigrationCoordinator : IAsyncDisposable
{
    private readonly Cluster _cluster;
    private readonly ILogger _logger;
    private readonly BackgroundWork _work;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SlotMigration? _current;

    public MigrationCoordinator(Cluster cluster, ILoggerFactory loggerFactory)
    {
        _cluster = cluster;
        _logger = loggerFactory.CreateLogger<SlotMigration>();
        _work = new BackgroundWork(_logger);
    }

    /// <summary>Key listings across groups in flight: a migration's cleanup waits for those that started before its switch.</summary>
    public ListingTracker Listings { get; } = new();

    /// <summary>
    /// Awaited at each <see cref="MigrationStep"/> of a migration when set: a test holds a migration at a known point
    /// (in the middle of the copy, between the switch and the cleanup) without a sleep or a throttle.
    /// </summary>
    public Func<MigrationStep, Task>? StepHook { get; set; }

    /// <summary>The migration under way, or null.</summary>
    public SlotMigration? Current => Volatile.Read(ref _current);

    /// <summary>Resumes the migration recorded in the metadata (a router restarted during one).</summary>
    public void ResumeRecorded()
    {
        if (_cluster.Metadata.Document.Migration is not { } record)
            return;
        LogResuming(record.From, record.To, record.Slots.Sum(r => r.Last - r.First + 1), record.State);
        Run(new SlotMigration(_cluster, record, _logger));
    }

    /// <summary>A client's SlotControl (validated): answered once the migration is recorded durably (it goes on after the answer).</summary>
    public void Submit(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        SlotControlRequest.TryRead(body.Span, out _, out var from, out var to, out var count);
        var requestId = header.RequestId;
        _work.Start($"slot migration {from} -> {to}", async _ =>
        {
            await Task.Yield(); // off the session's I/O thread: recording the migration fsyncs
            var (status, message) = await StartAsync(from, to, count).ConfigureAwait(false);
            if (status == StatusCode.Ok)
                client.Raw(Opcode.SlotControl, requestId, Encoding.UTF8.GetBytes(message));
            else
                client.Error(Opcode.SlotControl, requestId, status, message);
            client.Output.Flush();
        });
    }

    /// <summary>A client's GroupControl (validated): answered once the new group is durable in the metadata.</summary>
    public void SubmitGroupControl(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        GroupControlRequest.TryRead(body.Span, out _, out var name);
        var requestId = header.RequestId;
        _work.Start($"adding group {name}", async _ =>
        {
            await Task.Yield(); // off the session's I/O thread: recording the group fsyncs
            var (status, message) = await AddGroupAsync(name).ConfigureAwait(false);
            if (status == StatusCode.Ok)
                client.Raw(Opcode.GroupControl, requestId, Encoding.UTF8.GetBytes(message));
            else
                client.Error(Opcode.GroupControl, requestId, status, message);
            client.Output.Flush();
        });
    }

    /// <summary>
    /// Adds an empty group (<c>kvndb groups add NAME</c>): named durably in the metadata first (an entry of its own under
    /// <c>Groups</c>, and the slot map stored if it was not: the map and that entry name the group at every later start,
    /// and through the Raft metadata store on every router of a router group), then to the running router. Not while
    /// a migration runs: its lane takes the index one past the last group.
    /// </summary>
    public async Task<(StatusCode, string)> AddGroupAsync(string name)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_cluster.GroupNamed(name) is { } existing)
                return (StatusCode.ProtocolError, $"this router has a group '{name}' already ({_cluster.Slots.SlotsOf(existing.Index).Count} slots)");
            if (Current is { } running)
                return (StatusCode.Unavailable, $"a migration is under way ({running.Record.From} -> {running.Record.To}, {running.State}): add the group once it is done");
            var map = _cluster.Slots;
            if (map.Groups.Count + 1 >= SlotMap.MaxGroups)
                return (StatusCode.ProtocolError, $"a router has at most {SlotMap.MaxGroups - 1} groups");
            await _cluster.Metadata.ChangeAsync(d => d with
            {
                Groups = new Dictionary<string, KvnDb.Router.Membership.RouterMetadata>(d.Groups, StringComparer.Ordinal) { [name] = new() },
                Slots = d.Slots.Count > 0 ? d.Slots : map.ToRanges(),
            }).ConfigureAwait(false);
            var group = _cluster.AddGroup(name);
            LogGroupAdded(name, group.Index);
            return (StatusCode.Ok, $"group {name} added (no slots yet): start its nodes with 'kvndb-node --group {name}', then 'slots move FROM {name} --count N'");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return (StatusCode.Unavailable, $"the group could not be recorded durably: {ex.Message}");
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(StatusCode, string)> StartAsync(string fromName, string toName, int count)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (Current is { } running)
                return (StatusCode.Unavailable, $"a migration is under way ({running.Record.From} -> {running.Record.To}, {running.State}); one at a time");
            var from = _cluster.GroupNamed(fromName);
            var to = _cluster.GroupNamed(toName);
            if (from is null || to is null)
                return (StatusCode.NotFound, $"this router has no group '{(from is null ? fromName : toName)}' (groups: {string.Join(",", _cluster.Groups.Select(g => g.Name))})");
            if (from == to)
                return (StatusCode.ProtocolError, "the source and the target are the same group");
            var owned = _cluster.Slots.SlotsOf(from.Index);
            if (count <= 0 || count > owned.Count)
                return (StatusCode.ProtocolError, $"group {fromName} owns {owned.Count} slots: move 1 to {owned.Count}, not {count}");
            foreach (var group in new[] { from, to })
                if (!group.Membership.IsAdopted || !Array.Exists(group.Nodes.Serving, n => n.IsMember))
                    return (StatusCode.Unavailable, $"group {group.Name} has no serving in-sync node: a migration needs both groups serving");
            // The highest slots of the source: a range stays a range.
            List<int> slots = [.. owned.Skip(owned.Count - count)];
            var record = new MigrationRecord(fromName, toName, MigrationRecord.RangesOf(slots, toName), MigrationState.Copying);
            await _cluster.Metadata.ChangeAsync(d => d with { Migration = record }).ConfigureAwait(false);
            Run(new SlotMigration(_cluster, record, _logger));
            return (StatusCode.Ok, string.Create(CultureInfo.InvariantCulture,
                $"moving {count} slots ({string.Join(",", record.Slots.Select(r => r.First == r.Last ? $"{r.First}" : $"{r.First}-{r.Last}"))}) from {fromName} to {toName}; follow it with 'slots' or 'info'"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return (StatusCode.Unavailable, $"the migration could not be recorded durably: {ex.Message}");
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Run(SlotMigration migration)
    {
        Volatile.Write(ref _current, migration);
        _work.Start($"slot migration {migration.Record.From} -> {migration.Record.To}", async stopping =>
        {
            await Task.Yield();
            try
            {
                await migration.RunAsync(stopping).ConfigureAwait(false);
            }
            finally
            {
                if (migration.State == "done")
                    Interlocked.CompareExchange(ref _current, null, migration);
            }
        });
    }

    /// <summary>A donor's MigrationRead reply.</summary>
    public void OnChunk(NodeLink donor, in FrameHeader header, in ReadOnlySequence<byte> frame) => Current?.OnChunk(donor, header, frame);

    /// <summary>
    /// <c>migration: none</c>, or <c>migration: from=a to=b slots=N state=copying|switching|cleaning keys_copied=N bytes_copied=N
    /// relayed=N seconds=N</c>.
    /// </summary>
    public string Describe()
    {
        if (Current is not { } m)
            return "none";
        return string.Create(CultureInfo.InvariantCulture,
            $"from={m.Record.From} to={m.Record.To} slots={m.Slots.Count} state={m.State} keys_copied={m.RecordsCopied} bytes_copied={m.BytesCopied} " +
            $"relayed={m.Relayed} seconds={System.Diagnostics.Stopwatch.GetElapsedTime(m.StartedAt).TotalSeconds:0.0}");
    }

    public async ValueTask DisposeAsync()
    {
        await _work.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    [LoggerMessage(121, LogLevel.Information, "Group {Name} added (index {Index}, no slots): its nodes may join")]
    private partial void LogGroupAdded(string name, int index);

    [LoggerMessage(119, LogLevel.Information, "Resuming the migration of {Slots} slots {From} -> {To} recorded as {State}")]
    private partial void LogResuming(string from, string to, int slots, MigrationState state);
}
