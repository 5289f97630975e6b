using System.Buffers;
using System.Text;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.UnitTests.Storage;

/// <summary>
/// A full sync over real FASTER files, driven through the node's request processor as the router's
/// frames would (no sockets): the data is kept, judged record by record, trimmed at the end, and what
/// the sync left survives a restart; a crash mid-sync loses nothing and claims no history.
/// </summary>
public sealed class FasterFullSyncTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const ulong TrustedThrough = 100;
    private const ulong LiveAfter = 200;

    private readonly TempDirectory _directory = new();
    private readonly ArrayBufferWriter<byte> _output = new();
    private ulong _requestId;

    public void Dispose() => _directory.Dispose();

    private FasterStorageEngine Open() =>
        FasterStorageEngine.Open(_directory.Path, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = _directory.Path,
            MemoryBytes = 64L << 20,
            CheckpointInterval = System.Threading.Timeout.InfiniteTimeSpan,
        }, NullLogger.Instance);

    private static byte[] K(string key) => Encoding.UTF8.GetBytes(key);

    private static (string? Value, ulong Version) Read(IStorageEngine engine, string key)
    {
        if (!engine.TryGet(K(key), out var stored))
            return (null, 0);
        using (stored)
            return (Encoding.UTF8.GetString(stored.Value.Span), stored.Sequence);
    }

    /// <summary>Hands one encoded frame to the processor and returns the status of its reply (None when it sent none).</summary>
    private StatusCode? Process(RequestProcessor processor, Action<IBufferWriter<byte>> write)
    {
        var frame = new ArrayBufferWriter<byte>();
        write(frame);
        var header = FrameHeader.Read(frame.WrittenSpan);
        _output.ResetWrittenCount();
        processor.Process(header, frame.WrittenSpan[ProtocolLimits.HeaderSize..], _output);
        return _output.WrittenCount == 0 ? null : FrameHeader.Read(_output.WrittenSpan).Status;
    }

    private StatusCode? LiveSet(RequestProcessor processor, string key, string value, ulong sequence) => Process(processor, output =>
    {
        var body = new byte[FrameWriter.FieldSize(key.Length) + FrameWriter.FieldSize(value.Length)];
        var offset = FrameWriter.WriteField(body, K(key));
        FrameWriter.WriteField(body.AsSpan(offset), Encoding.UTF8.GetBytes(value));
        var span = output.GetSpan(SequencedWrite.FrameLength(body.Length));
        SequencedWrite.Write(span, Opcode.Set, FrameFlags.None, ++_requestId, sequence, 0, new ReadOnlySequence<byte>(body));
        output.Advance(SequencedWrite.FrameLength(body.Length));
    });

    private StatusCode? LiveDelete(RequestProcessor processor, string key, ulong sequence) => Process(processor, output =>
    {
        var body = new byte[FrameWriter.FieldSize(key.Length)];
        FrameWriter.WriteField(body, K(key));
        var span = output.GetSpan(SequencedWrite.FrameLength(body.Length));
        SequencedWrite.Write(span, Opcode.Delete, FrameFlags.None, ++_requestId, sequence, 0, new ReadOnlySequence<byte>(body));
        output.Advance(SequencedWrite.FrameLength(body.Length));
    });

    /// <summary>A donor's chunk, written as the donor writes it and applied as the joiner receives it.</summary>
    private StatusCode? Chunk(RequestProcessor processor, bool done, params (string Key, string Value, ulong Version)[] records) => Process(processor, output =>
    {
        var chunk = new ArrayBufferWriter<byte>();
        var bytes = records.Sum(r => SnapshotChunkHeader.RecordSize(r.Key.Length, r.Value.Length));
        var writer = new SnapshotChunkWriter(chunk, 1, new SnapshotChunkHeader(done, 1000, (uint)records.Length), bytes);
        foreach (var (key, value, version) in records)
            writer.Add(K(key), Encoding.UTF8.GetBytes(value), version, 0);
        writer.Complete();
        FrameWriter.WriteRaw(output, Opcode.SnapshotApply, FrameFlags.None, StatusCode.Ok, SyncMessages.ControlIdBit | 7, chunk.WrittenSpan[ProtocolLimits.HeaderSize..]);
    });

    private static void Seed(FasterStorageEngine engine)
    {
        engine.Set(K("trusted kept"), "mine"u8, 50);
        engine.Set(K("trusted newer on donor"), "mine"u8, 60);
        engine.Set(K("trusted deleted since"), "mine"u8, 70);
        engine.Set(K("divergent"), "other history"u8, 150);
        engine.Set(K("divergent far"), "other history"u8, 5_000);
        engine.Set(K("divergent only"), "other history"u8, 160);
    }

    [Fact]
    public async Task A_full_sync_keeps_the_data_judges_each_record_and_survives_a_restart()
    {
        var history = Guid.NewGuid();
        var identity = new NodeIdentity(_directory.Path);
        identity.SetHistory(Guid.NewGuid()); // the old (divergent) history
        var engine = Open();
        Seed(engine);
        var processor = new RequestProcessor(engine, identity, 1024, 1 << 20, NullLogger.Instance);

        Assert.Null(Process(processor, o => new SyncBegin(SyncMode.Full, history, 9, TrustedThrough, LiveAfter).Write(o, SyncMessages.ControlIdBit | 9)));
        Assert.Equal(Guid.Empty, identity.HistoryId);
        Assert.Equal(Guid.Empty, new NodeIdentity(_directory.Path).HistoryId); // durably, before anything changes
        Assert.Equal(6, engine.Count); // never wiped first

        Assert.Equal(StatusCode.Ok, LiveSet(processor, "live", "live", 201));
        Assert.Equal(StatusCode.Ok, LiveSet(processor, "carried after its live write", "live", 205));
        Assert.Equal(StatusCode.NotFound, LiveDelete(processor, "deleted live", 206));
        Assert.Equal(StatusCode.Ok, Chunk(processor, false,
            ("trusted kept", "mine", 50),
            ("trusted newer on donor", "donor", 90),
            ("divergent", "donor", 20),
            ("divergent far", "donor", 30)));
        Assert.Equal(StatusCode.Ok, Chunk(processor, true,
            ("carried after its live write", "donor", 204)));
        Assert.Equal(StatusCode.Ok, Process(processor, o => new SyncEnd(207).Write(o, SyncMessages.ControlIdBit | 10)));

        Assert.True(processor.TakePendingHistory(out var pending));
        Assert.Equal(history, pending);
        await engine.FlushAsync(CancellationToken.None).AsTask().WaitAsync(Timeout);
        await engine.CheckpointAsync().WaitAsync(Timeout);
        identity.SetHistory(pending);

        void Verify(IStorageEngine e)
        {
            Assert.Equal(("mine", 50UL), Read(e, "trusted kept"));
            Assert.Equal(("donor", 90UL), Read(e, "trusted newer on donor"));
            Assert.Equal(("donor", 20UL), Read(e, "divergent"));
            Assert.Equal(("donor", 30UL), Read(e, "divergent far"));
            Assert.Equal(("live", 201UL), Read(e, "live"));
            // A chunk is the key where the joiner applies it (the router holds the joiner there): it wins.
            Assert.Equal(("donor", 204UL), Read(e, "carried after its live write"));
            Assert.Equal((null, 0UL), Read(e, "deleted live"));
            Assert.Equal((null, 0UL), Read(e, "trusted deleted since"));
            Assert.Equal((null, 0UL), Read(e, "divergent only"));
            Assert.Equal(6, e.Count);
            Assert.Equal(207UL, e.LastSequence); // not the divergent history's 5000
        }
        Verify(engine);
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);

        await using var reopened = Open();
        Verify(reopened);
        Assert.Equal(history, new NodeIdentity(_directory.Path).HistoryId);
    }

    [Fact]
    public async Task A_crash_in_the_middle_of_a_full_sync_keeps_the_data_and_claims_no_history()
    {
        var identity = new NodeIdentity(_directory.Path);
        identity.SetHistory(Guid.NewGuid());
        var engine = Open();
        Seed(engine);
        await engine.CheckpointAsync().WaitAsync(Timeout);
        var processor = new RequestProcessor(engine, identity, 1024, 1 << 20, NullLogger.Instance);
        Process(processor, o => new SyncBegin(SyncMode.Full, Guid.NewGuid(), 3, TrustedThrough, LiveAfter).Write(o, SyncMessages.ControlIdBit | 3));
        Chunk(processor, false, ("trusted kept", "mine", 50));
        await engine.CloseWithoutCheckpointAsync().AsTask().WaitAsync(Timeout); // the link and the process die here

        await using var reopened = Open();
        Assert.Equal(6, reopened.Count);
        Assert.Equal(("mine", 50UL), Read(reopened, "trusted kept"));
        Assert.Equal(Guid.Empty, new NodeIdentity(_directory.Path).HistoryId);
    }
}
