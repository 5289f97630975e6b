using System.Buffers;
using System.Buffers.Binary;
using CsCheck;
using KvnDb.Fuzzing;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Fuzz;

/// <summary>
/// Property-based fuzzing of the protocol parsers with random and mutated frames: each parser must
/// agree with a plain reference reading of the bytes, never throw, and allocate nothing a peer merely claims.
/// </summary>
public sealed class ParserFuzzTests
{
    private const int MaxBody = 1 << 20;
    private const int MaxKey = 16;

    [Fact]
    public Task FrameReader_reads_exactly_the_frames_the_bytes_hold() => FuzzRun.WithinTimeoutAsync(() =>
        Check.Sample(FrameGen.Input(FrameGen.NodeOpcodes, nodeView: true), CheckFrameReader, iter: FuzzRun.Iter(20_000)));

    [Fact]
    public Task BodyValidator_agrees_with_a_reference_reading_for_every_opcode() => FuzzRun.WithinTimeoutAsync(() =>
        Check.Sample(FrameGen.AnyBody, CheckBodyValidator, iter: FuzzRun.Iter(5_000)));

    [Fact]
    public Task HelloRequest_accepts_only_well_formed_hellos() => FuzzRun.WithinTimeoutAsync(() =>
        Check.Sample(HelloBodies, CheckHello, iter: FuzzRun.Iter(20_000)));

    [Fact]
    public Task SyncBegin_accepts_only_its_exact_shape() => FuzzRun.WithinTimeoutAsync(() =>
        Check.Sample(FrameGen.AnyBody, CheckSyncBegin, iter: FuzzRun.Iter(20_000)));

    [Fact]
    public Task Digests_never_allocate_for_a_claimed_count() => FuzzRun.WithinTimeoutAsync(() =>
        Check.Sample(FrameGen.AnyBody, CheckDigests, iter: FuzzRun.Iter(20_000)));

    private static readonly Gen<byte[]> HelloBodies = Gen.Frequency(
        (4, FrameGen.MutatedBody([Opcode.Hello], nodeView: false)),
        (1, FrameGen.AnyBody));

    /// <summary>Walks the input frame by frame, checking each result against the raw header bytes.</summary>
    internal static void CheckFrameReader(FuzzInput input)
    {
        var buffer = input.ToSequence();
        var offset = 0;
        while (true)
        {
            var remaining = buffer.Length;
            var probe = buffer;
            FrameReader.TryRead(ref probe, MaxBody, out _, out _); // the first call may run a one-off initialiser on this thread: a per-call allocation shows in the measured second call too
            var before = GC.GetAllocatedBytesForCurrentThread();
            var status = FrameReader.TryRead(ref buffer, MaxBody, out var header, out var frame);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, allocated);

            if (remaining < ProtocolLimits.HeaderSize)
            {
                Assert.Equal(FrameReadStatus.NeedMoreData, status);
                Assert.Equal(remaining, buffer.Length);
                return;
            }
            var claimed = BinaryPrimitives.ReadUInt32LittleEndian(input.Bytes.AsSpan(offset));
            Assert.Equal((Opcode)input.Bytes[offset + 4], header.Opcode);
            Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(input.Bytes.AsSpan(offset + 8)), header.RequestId);
            if (claimed > MaxBody)
            {
                Assert.Equal(FrameReadStatus.TooLarge, status);
                Assert.Equal(remaining, buffer.Length);
                return;
            }
            if (ProtocolLimits.HeaderSize + claimed > remaining)
            {
                Assert.Equal(FrameReadStatus.NeedMoreData, status);
                Assert.Equal(remaining, buffer.Length);
                return;
            }
            Assert.Equal(FrameReadStatus.Complete, status);
            Assert.Equal((int)claimed, header.BodyLength);
            Assert.Equal(ProtocolLimits.HeaderSize + claimed, frame.Length);
            Assert.Equal(remaining - frame.Length, buffer.Length);
            Assert.True(frame.ToArray().AsSpan().SequenceEqual(input.Bytes.AsSpan(offset, (int)frame.Length)));
            offset += (int)frame.Length;
        }
    }

    internal static void CheckBodyValidator(byte[] body)
    {
        for (var value = 0; value <= byte.MaxValue; value++)
        {
            var opcode = (Opcode)value;
            BodyValidator.Validate(opcode, body, MaxKey); // the first call may run a one-off initialiser on this thread: a per-call allocation shows in the measured second call too
            var before = GC.GetAllocatedBytesForCurrentThread();
            var status = BodyValidator.Validate(opcode, body, MaxKey);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, allocated);
            Assert.True(ReferenceStatus(opcode, body, MaxKey) == status,
                $"{opcode}: validator said {status}, reference reading says {ReferenceStatus(opcode, body, MaxKey)}");
        }
    }

    internal static void CheckHello(byte[] body)
    {
        HelloRequest.TryRead(body, out _); // the first call may run a one-off initialiser on this thread: a per-call allocation shows in the measured second call too
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ok = HelloRequest.TryRead(body, out var hello);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);

        // Reference: [u16 version][u8 role][i32 n][n bytes][u64 sequence][16 history][16 node id][u8 flags][u64 max record],
        // then optionally [i32 m][m bytes node name], then optionally [i32 g][g bytes group name], and anything after
        // the group is ignored (bytes after the name must be a whole group field).
        var n = body.Length >= 7 ? BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(3)) : -1;
        var fixedEnd = 7L + n + 8 + 16 + 16 + 1 + 8;
        var m = n >= 0 && body.Length >= fixedEnd + 4 ? BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan((int)fixedEnd)) : -1;
        var nameEnd = fixedEnd + 4 + m;
        var g = m >= 0 && body.Length >= nameEnd + 4 ? BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan((int)nameEnd)) : -1;
        var wellFormed = n >= 0
            && (body.Length == fixedEnd
                || (m >= 0 && nameEnd <= body.Length && (body.Length == nameEnd || (g >= 0 && nameEnd + 4 + g <= body.Length))))
            && body[2] is (byte)ConnectionRole.Client or (byte)ConnectionRole.Node
            && body[(int)fixedEnd - 9] <= 7;
        Assert.Equal(wellFormed, ok);
        if (!ok)
            return;
        var end = (int)fixedEnd;
        Assert.Equal(BinaryPrimitives.ReadUInt16LittleEndian(body), hello.Version);
        Assert.Equal((ConnectionRole)body[2], hello.Role);
        Assert.True(hello.Password.SequenceEqual(body.AsSpan(7, hello.Password.Length)));
        Assert.Equal(end - 7 - 49, hello.Password.Length);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(7 + hello.Password.Length)), hello.LastSequence);
        Assert.Equal(new Guid(body.AsSpan(end - 41, 16)), hello.HistoryId);
        Assert.Equal(new Guid(body.AsSpan(end - 25, 16)), hello.NodeId);
        Assert.Equal((NodeHelloFlags)body[end - 9], hello.Flags);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(end - 8)), hello.MaxRecord);
        Assert.Equal(body.Length == end ? 0 : Math.Min(m, HelloRequest.MaxNodeNameBytes), hello.NodeName.Length);
    }

    internal static void CheckSyncBegin(byte[] body)
    {
        SyncBegin.TryRead(body, out _); // the first call may run a one-off initialiser on this thread: a per-call allocation shows in the measured second call too
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ok = SyncBegin.TryRead(body, out var begin);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(body.Length == 41 && body[0] <= (byte)SyncMode.Full, ok);
        if (!ok)
            return;
        Assert.Equal((SyncMode)body[0], begin.Mode);
        Assert.Equal(new Guid(body.AsSpan(1, 16)), begin.HistoryId);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(17)), begin.SyncId);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(25)), begin.TrustedThrough);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(33)), begin.LiveAfter);
    }

    internal static void CheckDigests(byte[] body)
    {
        NodeDigest.TryRead(body, out _); // the first call may run a one-off initialiser on this thread: a per-call allocation shows in the measured second call too
        ClusterDigest.TryRead(body, out _);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var nodeOk = NodeDigest.TryRead(body, out var digest);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(body.Length >= NodeDigest.Size, nodeOk);
        if (nodeOk)
            Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(16)), digest.ContentHash);

        before = GC.GetAllocatedBytesForCurrentThread();
        var clusterOk = ClusterDigest.TryRead(body, out var entries);
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // One 40-byte entry per 38 input bytes, plus the array header.
        Allocations.AssertBounded(allocated, body.Length, perInputByte: 2, constant: 64, "ClusterDigest.TryRead");
        var claimed = body.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(body) : uint.MaxValue;
        Assert.Equal(body.Length >= 4 && claimed <= (body.Length - 4) / ClusterDigest.EntrySize, clusterOk);
        if (!clusterOk)
            return;
        Assert.Equal((int)claimed, entries.Length);
        for (var i = 0; i < entries.Length; i++)
        {
            var line = body.AsSpan(4 + i * ClusterDigest.EntrySize);
            Assert.Equal(BinaryPrimitives.ReadInt32LittleEndian(line), entries[i].NodeId);
            Assert.Equal((NodeState)line[4], entries[i].State);
            Assert.Equal(line[5] != 0, entries[i].InSync);
            Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(line[6..]), entries[i].Lag);
            Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(line[(14 + 16)..]), entries[i].Digest.ContentHash);
        }
    }

    /// <summary>
    /// The request body grammar of docs/protocol.md read the plain way (long arithmetic, one field at a
    /// time), to check the validator against: structure errors win over key sizes.
    /// </summary>
    internal static StatusCode ReferenceStatus(Opcode opcode, byte[] body, int maxKey)
    {
        long position = 0;
        var keyTooLarge = false;

        bool Field(bool isKey)
        {
            if (position + 4 > body.Length)
                return false;
            long length = BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan((int)position));
            if (length < 0 || position + 4 + length > body.Length)
                return false;
            position += 4 + length;
            keyTooLarge |= isKey && length > maxKey;
            return true;
        }

        StatusCode End() => position != body.Length ? StatusCode.ProtocolError : keyTooLarge ? StatusCode.KeyTooLarge : StatusCode.Ok;

        StatusCode Entries(bool withValues)
        {
            if (body.Length < 4)
                return StatusCode.ProtocolError;
            var count = BinaryPrimitives.ReadUInt32LittleEndian(body);
            position = 4;
            if (count == 0)
                return StatusCode.ProtocolError;
            for (long i = 0; i < count; i++)
            {
                if (!Field(isKey: true) || (withValues && !Field(isKey: false)))
                    return StatusCode.ProtocolError;
            }
            return End();
        }

        // The fixed bytes before the fields of the evaluated writes, and whether they are well formed.
        bool Fixed(int size, Func<bool> valid)
        {
            if (body.Length < size || !valid())
                return false;
            position = size;
            return true;
        }

        bool SetWhenHeaderValid()
        {
            var condition = body[0];
            var options = body[1];
            var expiry = BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(10));
            var relative = (options & 4) != 0;
            var absolute = (options & 8) != 0;
            if (condition > 3 || (options & ~0x0F) != 0 || (relative && absolute))
                return false;
            return relative || absolute ? (options & 2) == 0 && expiry > 0 : expiry == 0;
        }

        bool ExpireHeaderValid()
        {
            var time = BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(2));
            return body[0] switch
            {
                0 => body[1] == 0 && time == 0,
                1 or 2 => body[1] <= 5,
                _ => false,
            };
        }

        switch (opcode)
        {
            case Opcode.Ping or Opcode.Info or Opcode.TimeMark:
                return body.Length == 0 ? StatusCode.Ok : StatusCode.ProtocolError;
            case Opcode.Get or Opcode.Exists or Opcode.Delete or Opcode.ListKeys or Opcode.GetVersioned or Opcode.TimeToLive or Opcode.GetDelete:
                return Field(isKey: true) ? End() : StatusCode.ProtocolError;
            case Opcode.Set or Opcode.Append:
                return Field(isKey: true) && Field(isKey: false) ? End() : StatusCode.ProtocolError;
            case Opcode.SetWhen:
                return Fixed(18, SetWhenHeaderValid) && Field(isKey: true) && Field(isKey: false) ? End() : StatusCode.ProtocolError;
            case Opcode.Increment:
                return Fixed(8, () => true) && Field(isKey: true) ? End() : StatusCode.ProtocolError;
            case Opcode.IncrementFloat:
                return Fixed(8, () => double.IsFinite(BinaryPrimitives.ReadDoubleLittleEndian(body))) && Field(isKey: true) ? End() : StatusCode.ProtocolError;
            case Opcode.SetRange:
                return Fixed(8, () => true) && Field(isKey: true) && Field(isKey: false) ? End() : StatusCode.ProtocolError;
            case Opcode.Expire:
                return Fixed(10, ExpireHeaderValid) && Field(isKey: true) ? End() : StatusCode.ProtocolError;
            case Opcode.Transaction or Opcode.Batch:
                return ReferenceTransaction(body, maxKey);
            case Opcode.ScanKeys:
            {
                // database, position below 2^48, count of at least 1; then the pattern, bounded like a key; then maybe
                // an end position, above the position and at most 2^48.
                if (!(Fixed(13, () => body[0] < 16 && BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(1)) < 1UL << 48
                    && BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(9)) >= 1) && Field(isKey: true)))
                    return StatusCode.ProtocolError;
                if (position + 8 == body.Length)
                {
                    var end = BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan((int)position));
                    if (end <= BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(1)) || end > 1UL << 48)
                        return StatusCode.ProtocolError;
                    position += 8;
                }
                return End();
            }
            case Opcode.GroupControl:
            {
                // [u8 action 1][field name]; a name of 1 to 64 of [A-Za-z0-9._-].
                if (body.Length < 1 || body[0] != 1)
                    return StatusCode.ProtocolError;
                position = 1;
                if (!Field(isKey: false) || position != body.Length)
                    return StatusCode.ProtocolError;
                var name = body.AsSpan(5);
                if (name.Length is < 1 or > 64)
                    return StatusCode.ProtocolError;
                foreach (var b in name)
                    if (!(b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_' or (byte)'.'))
                        return StatusCode.ProtocolError;
                return StatusCode.Ok;
            }
            case Opcode.KeyCount:
                return body.Length == 1 && (body[0] < 16 || body[0] >= 0xFE) ? StatusCode.Ok : StatusCode.ProtocolError;
            case Opcode.FlushKeys:
                return body.Length == 1 && (body[0] < 16 || body[0] == 0xFF) ? StatusCode.Ok : StatusCode.ProtocolError;
            case Opcode.GetExpire:
                return Fixed(10, () => ExpireHeaderValid() && body[1] == 0) && Field(isKey: true) ? End() : StatusCode.ProtocolError;
            case Opcode.CopyKey:
                return Fixed(1, () => body[0] <= 3) && Field(isKey: true) && Field(isKey: true) ? End() : StatusCode.ProtocolError;
            case Opcode.MultiGet:
                return Entries(withValues: false);
            case Opcode.MultiSet:
                return Entries(withValues: true);
            case Opcode.FlushSlots:
                // A set of 16,384 slots, one bit each.
                return body.Length == 2048 ? StatusCode.Ok : StatusCode.ProtocolError;
            case Opcode.MigrationApply:
            {
                // [u8 done 0|1][u64 donor keys][u32 count], then count records [field key][field value][u64 sequence][i64 expiry].
                if (body.Length < 13 || body[0] > 1)
                    return StatusCode.ProtocolError;
                long records = BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(9));
                position = 13;
                for (long i = 0; i < records; i++)
                {
                    if (!Field(isKey: true) || !Field(isKey: false) || position + 16 > body.Length)
                        return StatusCode.ProtocolError;
                    position += 16;
                }
                return End();
            }
            case Opcode.SlotControl:
            {
                // [u8 action 1][field from][field to][u32 count <= 16384]; names of 1 to 64 of [A-Za-z0-9._-].
                static bool IsName(ReadOnlySpan<byte> name)
                {
                    if (name.Length is < 1 or > 64)
                        return false;
                    foreach (var b in name)
                        if (!(b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_' or (byte)'.'))
                            return false;
                    return true;
                }
                if (body.Length < 1 || body[0] != 1)
                    return StatusCode.ProtocolError;
                position = 1;
                var fromAt = position;
                if (!Field(isKey: false))
                    return StatusCode.ProtocolError;
                var from = body.AsSpan((int)fromAt + 4, (int)(position - fromAt - 4));
                var toAt = position;
                if (!Field(isKey: false))
                    return StatusCode.ProtocolError;
                var to = body.AsSpan((int)toAt + 4, (int)(position - toAt - 4));
                if (position + 4 != body.Length || BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan((int)position)) > 16384 || !IsName(from) || !IsName(to))
                    return StatusCode.ProtocolError;
                return StatusCode.Ok;
            }
            default:
                return StatusCode.UnknownOpcode;
        }
    }

    /// <summary>Guards, then at least one allowed operation whose own body the reference accepts; nothing after.</summary>
    private static StatusCode ReferenceTransaction(byte[] body, int maxKey)
    {
        long position = 0;
        var status = StatusCode.Ok;
        bool UInt32(out uint value)
        {
            value = 0;
            if (position + 4 > body.Length)
                return false;
            value = BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan((int)position));
            position += 4;
            return true;
        }
        if (!UInt32(out var guards))
            return StatusCode.ProtocolError;
        for (long i = 0; i < guards; i++)
        {
            if (position + 4 > body.Length)
                return StatusCode.ProtocolError;
            long length = BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan((int)position));
            if (length < 0 || position + 4 + length + 8 > body.Length)
                return StatusCode.ProtocolError;
            if (length > maxKey)
                status = StatusCode.KeyTooLarge;
            position += 4 + length + 8;
        }
        if (!UInt32(out var operations) || operations == 0)
            return StatusCode.ProtocolError;
        for (long i = 0; i < operations; i++)
        {
            if (position + 5 > body.Length)
                return StatusCode.ProtocolError;
            var opcode = (Opcode)body[position];
            var length = BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan((int)position + 1));
            position += 5;
            if (length > body.Length - position)
                return StatusCode.ProtocolError;
            if (opcode is not (Opcode.Set or Opcode.Delete or Opcode.SetWhen or Opcode.GetDelete or Opcode.Increment
                or Opcode.IncrementFloat or Opcode.Append or Opcode.SetRange or Opcode.Expire or Opcode.GetExpire or Opcode.CopyKey
                or Opcode.Get or Opcode.Exists or Opcode.GetVersioned or Opcode.TimeToLive))
                return StatusCode.ProtocolError;
            var inner = ReferenceStatus(opcode, body.AsSpan((int)position, (int)length).ToArray(), maxKey);
            if (inner == StatusCode.ProtocolError)
                return inner;
            if (inner != StatusCode.Ok)
                status = inner;
            position += length;
        }
        return position == body.Length ? status : StatusCode.ProtocolError;
    }
}
