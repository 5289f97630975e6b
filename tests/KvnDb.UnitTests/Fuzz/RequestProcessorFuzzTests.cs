using System.Buffers;
using System.Text;
using CsCheck;
using KvnDb.Fuzzing;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.UnitTests.Fuzz;

/// <summary>
/// The node's request processor with a real ram engine, fed random and mutated router frames:
/// it never throws, answers each frame with at most one well-formed response carrying the request's
/// id, and allocates in proportion to the bytes it was given, never to what they claim.
/// </summary>
public sealed class RequestProcessorFuzzTests
{
    private const int MaxKey = 1024;

    /// <summary>Small enough that multi-gets and snapshot chunks of the seeded values can exceed it.</summary>
    private const int MaxFrame = 8 * 1024;

    /// <summary>
    /// Bytes a call may allocate per input byte (stored copies, pooled arrays) plus a constant: a fresh processor's
    /// first call takes its 64 KiB scratch buffer, and a first read its pooled value buffer (the seeded values are 3 KB).
    /// </summary>
    private const int PerInputByte = 64;
    private const long Constant = 72 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_output;

    [Fact]
    public Task Processor_survives_random_and_mutated_router_frames() => FuzzRun.WithinTimeoutAsync(() =>
        Check.Sample(FrameGen.Input(FrameGen.NodeOpcodes, nodeView: true), Run, iter: FuzzRun.Iter(5_000)));

    /// <summary>Runs every complete frame of <paramref name="input"/> through a fresh processor and checks each reply.</summary>
    internal static void Run(FuzzInput input)
    {
        var engine = new RamStorageEngine();
        // A few short keys, so fuzzed gets, deletes and snapshots sometimes find data.
        for (byte b = 0; b < 4; b++)
            engine.Set([b], Encoding.UTF8.GetBytes($"value {b} ".PadRight(3000, '.')), b + 1UL);
        engine.Set([], "empty key"u8, 5);
        var processor = new RequestProcessor(engine, new NodeIdentity(null), MaxKey, MaxFrame, NullLogger.Instance);
        // Pre-sized and reused so the measurement sees the processor's allocations, not the output buffer growing.
        var output = t_output ??= new ArrayBufferWriter<byte>(4 * 1024 * 1024);

        var buffer = input.ToSequence();
        // The largest frame a router on the same limit forwards: a client body leaves 21 bytes of headroom, a write gains 8.
        while (FrameReader.TryRead(ref buffer, MaxFrame - 13, out var header, out var frame) == FrameReadStatus.Complete)
        {
            using var bytes = new ContiguousBytes(frame); // as the node's link does
            output.ResetWrittenCount();
            var before = GC.GetAllocatedBytesForCurrentThread();
            processor.Process(header, bytes.Span[ProtocolLimits.HeaderSize..], output);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Allocations.AssertBounded(allocated, frame.Length, PerInputByte, Constant, $"Process({header.Opcode})");
            CheckReply(header, output.WrittenMemory);
        }
    }

    private static void CheckReply(in FrameHeader request, ReadOnlyMemory<byte> written)
    {
        var replies = new ReadOnlySequence<byte>(written);
        var count = 0;
        while (replies.Length > 0)
        {
            Assert.Equal(FrameReadStatus.Complete, FrameReader.TryRead(ref replies, int.MaxValue, out var reply, out _));
            count++;
            Assert.True(reply.IsResponse, $"reply to {request.Opcode} lacks the response flag");
            Assert.Equal(request.RequestId, reply.RequestId);
            Assert.Equal(request.Opcode, reply.Opcode);
            Assert.True(Enum.IsDefined(reply.Status), $"reply to {request.Opcode} has undefined status {reply.Status}");
            // The router drops a node that sends a frame above the limit.
            Assert.True(reply.BodyLength <= MaxFrame, $"reply to {request.Opcode} of {reply.BodyLength} bytes is above the frame limit");
        }
        // SyncBegin is never answered; a replayed write (NoReply) is answered only when it is refused;
        // a Ping response is the router's answer to the node's own ping.
        var mayBeSilent = request.Opcode == Opcode.SyncBegin || (request.Flags & FrameFlags.NoReply) != 0
            || (request.Opcode == Opcode.Ping && request.IsResponse);
        Assert.True(count == 1 || (count == 0 && mayBeSilent), $"{count} replies to {request.Opcode} (flags {request.Flags})");
    }
}
