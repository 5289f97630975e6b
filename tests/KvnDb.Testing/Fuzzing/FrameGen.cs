using System.Buffers;
using System.Buffers.Binary;
using CsCheck;
using KvnDb.Protocol;

namespace KvnDb.Fuzzing;

/// <summary>
/// CsCheck generators: valid frames for every opcode, then those frames mutated the ways a broken or
/// hostile peer would send them (bit flips, truncation, claimed lengths set to huge or negative
/// values, bytes inserted, dropped or repeated), cut at random points into segments.
/// </summary>
public static class FrameGen
{
    /// <summary>What a client may send to the router.</summary>
    public static readonly Opcode[] ClientOpcodes =
    [
        Opcode.Ping, Opcode.Info, Opcode.Get, Opcode.Exists, Opcode.MultiGet, Opcode.ListKeys,
        Opcode.Set, Opcode.Delete, Opcode.MultiSet, Opcode.Digest,
    ];

    /// <summary>What the router may send to a node.</summary>
    public static readonly Opcode[] NodeOpcodes =
    [
        Opcode.Ping, Opcode.Get, Opcode.Exists, Opcode.MultiGet, Opcode.ListKeys, Opcode.Set, Opcode.Delete,
        Opcode.MultiSet, Opcode.Digest, Opcode.SyncBegin, Opcode.SyncEnd, Opcode.SnapshotRead, Opcode.SnapshotApply,
    ];

    /// <summary>Lengths a peer may claim: negative as int32, huge, at and just past the limits, zero.</summary>
    public static readonly uint[] ClaimedLengths =
    [
        0, 1, 3, 0xFFFF_FFFF, 0xFFFF_FFF0, 0x8000_0000, 0x7FFF_FFFF, 0x7FFF_FFF0,
        1 << 20, ProtocolLimits.DefaultMaxFrameSize - 1, ProtocolLimits.DefaultMaxFrameSize, ProtocolLimits.DefaultMaxFrameSize + 1,
        ProtocolLimits.DefaultMaxKeySize, ProtocolLimits.DefaultMaxKeySize + 1, 1024 + ProtocolLimits.DefaultMaxKeySize + 1,
    ];

    /// <summary>Short keys: no fuzzed frame can touch the long keys a well-behaved test client uses.</summary>
    public static readonly Gen<byte[]> Key = Gen.Frequency(
        (3, Gen.Byte.Array[0, 24]),
        (1, Gen.Byte[0, 3].Select(b => new[] { b }))); // a small key space, so reads and deletes find what was written

    public static readonly Gen<byte[]> Value = Gen.Frequency((8, Gen.Byte.Array[0, 64]), (1, Gen.Byte.Array[0, 4096]));

    private static readonly Gen<FrameFlags> Flags = Gen.Frequency(
        (8, Gen.Const(FrameFlags.None)),
        (1, Gen.Const(FrameFlags.NoReply)),
        (2, Gen.Byte[0, 3].Select(concern => (FrameFlags)(concern << 3))),
        (1, Gen.Byte.Select(b => (FrameFlags)b)));

    private static readonly Gen<uint> Claim = Gen.Frequency((3, Gen.OneOf(ClaimedLengths)), (1, Gen.UInt));

    /// <summary>A mutation of a byte array; positions are taken modulo its length.</summary>
    private static readonly Gen<Func<byte[], byte[]>> Mutation = Gen.Frequency<Func<byte[], byte[]>>(
        (3, Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, 7], (at, bit) => (Func<byte[], byte[]>)(bytes => FlipBit(bytes, at, bit)))),
        (2, Gen.Int[0, int.MaxValue].Select(at => (Func<byte[], byte[]>)(bytes => bytes[..(at % (bytes.Length + 1))]))),
        (3, Gen.Select(Gen.Int[0, 3], Claim, (frameStart, claim) => (Func<byte[], byte[]>)(bytes => WriteClaim(bytes, FrameStart(bytes, frameStart), claim)))),
        (3, Gen.Select(Gen.Int[0, int.MaxValue], Claim, (at, claim) => (Func<byte[], byte[]>)(bytes => WriteClaim(bytes, at % Math.Max(1, bytes.Length - 3), claim)))),
        (2, Gen.Select(Gen.Int[0, int.MaxValue], Gen.Byte, (at, value) => (Func<byte[], byte[]>)(bytes => SetByte(bytes, at, value)))),
        (1, Gen.Select(Gen.Int[0, int.MaxValue], Gen.Byte.Array[1, 16], (at, inserted) => (Func<byte[], byte[]>)(bytes => Insert(bytes, at, inserted)))),
        (1, Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[1, 16], (at, count) => (Func<byte[], byte[]>)(bytes => Remove(bytes, at, count)))),
        (1, Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[1, 40], (at, count) => (Func<byte[], byte[]>)(bytes => Repeat(bytes, at, count)))));

    /// <summary>A valid body for <paramref name="opcode"/>; node-side writes carry the router's sequence in front.</summary>
    public static Gen<byte[]> Body(Opcode opcode, bool nodeView) => opcode switch
    {
        Opcode.Get or Opcode.Exists or Opcode.ListKeys => Key.Select(key => Fields(key)),
        Opcode.Delete => Sequenced(nodeView, Key.Select(key => Fields(key))),
        Opcode.Set => Sequenced(nodeView, Gen.Select(Key, Value, (key, value) => Fields(key, value))),
        Opcode.MultiGet => Key.Array[1, 6].Select(keys => Counted(keys.Length, keys)),
        Opcode.MultiSet => Sequenced(nodeView, Gen.Select(Key, Value).Array[1, 6]
            .Select(pairs => Counted(pairs.Length, pairs.SelectMany(p => new[] { p.Item1, p.Item2 }).ToArray()))),
        Opcode.Hello => Gen.Select(Gen.Byte[1, 2], Gen.String[0, 12], Gen.ULong, Gen.Guid, HelloBody),
        Opcode.SyncBegin => Gen.Select(Gen.Byte[0, 2], Gen.Guid, Gen.ULong, (mode, history, sync) =>
        {
            var body = new byte[SyncBegin.Size];
            body[0] = mode;
            history.TryWriteBytes(body.AsSpan(1));
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(17), sync);
            return body;
        }),
        Opcode.SyncEnd => Gen.ULong.Select(sequence => UInt64(sequence)),
        Opcode.SnapshotRead => Gen.Select(Gen.ULong, Gen.UInt[0, 1 << 20], (sync, max) =>
        {
            var body = new byte[12];
            BinaryPrimitives.WriteUInt64LittleEndian(body, sync);
            BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(8), max);
            return body;
        }),
        Opcode.SnapshotApply => Gen.Select(Key, Value, Gen.ULong).Array[0, 5].Select(SnapshotChunk),
        _ => Gen.Const(Array.Empty<byte>()),
    };

    /// <summary>The router's digest reply body (<see cref="ClusterDigest"/>) with 0 to 4 node lines.</summary>
    public static readonly Gen<byte[]> ClusterDigestBody =
        Gen.Select(Gen.Int[0, 63], Gen.Byte[0, 4], Gen.ULong, Gen.ULong, Gen.ULong).Array[0, 4].Select(lines =>
        {
            var entries = lines.Select(l => new NodeDigestEntry(l.Item1, (NodeState)l.Item2, l.Item3 % 2 == 0, l.Item4 % 5, new NodeDigest(l.Item3, l.Item4, l.Item5))).ToList();
            var body = new byte[ClusterDigest.BodySize(entries.Count)];
            ClusterDigest.Write(body, entries);
            return body;
        });

    /// <summary>One valid frame for one of <paramref name="opcodes"/>.</summary>
    public static Gen<byte[]> Frame(Opcode[] opcodes, bool nodeView) =>
        from opcode in Gen.OneOf(opcodes)
        from body in Body(opcode, nodeView)
        from flags in Flags
        from requestId in Gen.ULong
        select Encode(opcode, flags, requestId, body);

    /// <summary>One to four valid frames back to back (pipelined).</summary>
    public static Gen<byte[]> Frames(Opcode[] opcodes, bool nodeView) =>
        Frame(opcodes, nodeView).Array[1, 4].Select(frames => frames.SelectMany(f => f).ToArray());

    /// <summary>Valid frames with one to three mutations.</summary>
    public static Gen<byte[]> Mutated(Opcode[] opcodes, bool nodeView) =>
        Gen.Select(Frames(opcodes, nodeView), Mutation.Array[1, 3], (bytes, mutations) =>
            mutations.Aggregate(bytes, (current, mutate) => mutate(current)));

    /// <summary>Mostly mutated frames, some pure noise, some valid frames, cut at up to four points.</summary>
    public static Gen<FuzzInput> Input(Opcode[] opcodes, bool nodeView) =>
        Gen.Select(
            Gen.Frequency((1, Gen.Byte.Array[0, 96]), (2, Frames(opcodes, nodeView)), (6, Mutated(opcodes, nodeView))),
            Gen.Int[0, int.MaxValue].Array[0, 4],
            (bytes, cuts) => new FuzzInput(bytes, cuts.Select(c => c % (bytes.Length + 1)).ToArray()));

    /// <summary>A body for a random opcode, possibly mutated: what parsers of one body see.</summary>
    public static Gen<byte[]> MutatedBody(Opcode[] opcodes, bool nodeView) =>
        Gen.Select(
            Gen.OneOf(opcodes).SelectMany(opcode => Body(opcode, nodeView)),
            Mutation.Array[0, 3],
            (body, mutations) => mutations.Aggregate(body, (current, mutate) => mutate(current)));

    /// <summary>Body-level inputs for every parser: all opcodes' bodies, hellos, digests, and noise.</summary>
    public static readonly Gen<byte[]> AnyBody = Gen.Frequency(
        (6, MutatedBody([.. NodeOpcodes, Opcode.Hello], nodeView: false)),
        (2, Gen.Select(ClusterDigestBody, Mutation.Array[0, 2], (body, mutations) => mutations.Aggregate(body, (c, m) => m(c)))),
        (1, Gen.Byte.Array[0, 64]));

    public static byte[] Encode(Opcode opcode, FrameFlags flags, ulong requestId, ReadOnlySpan<byte> body)
    {
        var writer = new ArrayBufferWriter<byte>(ProtocolLimits.HeaderSize + body.Length);
        FrameWriter.WriteRaw(writer, opcode, flags, StatusCode.Ok, requestId, body);
        return writer.WrittenSpan.ToArray();
    }

    private static byte[] FlipBit(byte[] bytes, int at, int bit)
    {
        if (bytes.Length == 0)
            return bytes;
        var copy = (byte[])bytes.Clone();
        copy[at % copy.Length] ^= (byte)(1 << bit);
        return copy;
    }

    /// <summary>Offset of the n-th frame (following the header lengths as written), or 0.</summary>
    private static int FrameStart(byte[] bytes, int index)
    {
        var offset = 0;
        for (var i = 0; i < index; i++)
        {
            if (offset + ProtocolLimits.HeaderSize > bytes.Length)
                return 0;
            var next = offset + ProtocolLimits.HeaderSize + (long)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));
            if (next + 4 > bytes.Length)
                return offset;
            offset = (int)next;
        }
        return offset;
    }

    private static byte[] WriteClaim(byte[] bytes, int at, uint claim)
    {
        if (at + 4 > bytes.Length)
            return bytes;
        var copy = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(at), claim);
        return copy;
    }

    private static byte[] SetByte(byte[] bytes, int at, byte value)
    {
        if (bytes.Length == 0)
            return bytes;
        var copy = (byte[])bytes.Clone();
        // Half the time hit a header's opcode or flags byte, where one byte changes the meaning most.
        var position = at % 2 == 0 && copy.Length > 5 ? 4 + at / 2 % 2 : at % copy.Length;
        copy[position] = value;
        return copy;
    }

    private static byte[] Insert(byte[] bytes, int at, byte[] inserted)
    {
        var position = at % (bytes.Length + 1);
        return [.. bytes.AsSpan(0, position), .. inserted, .. bytes.AsSpan(position)];
    }

    private static byte[] Remove(byte[] bytes, int at, int count)
    {
        if (bytes.Length == 0)
            return bytes;
        var position = at % bytes.Length;
        count = Math.Min(count, bytes.Length - position);
        return [.. bytes.AsSpan(0, position), .. bytes.AsSpan(position + count)];
    }

    private static byte[] Repeat(byte[] bytes, int at, int count)
    {
        if (bytes.Length == 0)
            return bytes;
        var position = at % bytes.Length;
        count = Math.Min(count, bytes.Length - position);
        return [.. bytes.AsSpan(0, position + count), .. bytes.AsSpan(position)];
    }

    private static Gen<byte[]> Sequenced(bool nodeView, Gen<byte[]> body) =>
        nodeView ? Gen.Select(Gen.ULong, body, (sequence, b) => (byte[])[.. UInt64(sequence), .. b]) : body;

    private static byte[] Fields(params byte[][] fields)
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (var field in fields)
            writer.Advance(FrameWriter.WriteField(writer.GetSpan(FrameWriter.FieldSize(field.Length)), field));
        return writer.WrittenSpan.ToArray();
    }

    private static byte[] Counted(int count, byte[][] fields)
    {
        var prefix = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(prefix, (uint)count);
        return [.. prefix, .. Fields(fields)];
    }

    private static byte[] UInt64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] HelloBody(byte role, string password, ulong lastSequence, Guid history)
    {
        var writer = new ArrayBufferWriter<byte>();
        new HelloRequest(ProtocolLimits.Version, (ConnectionRole)role, password, lastSequence, history, Guid.Empty, NodeHelloFlags.None, role == (byte)ConnectionRole.Node ? ulong.MaxValue : 0).Write(writer, 0);
        return writer.WrittenSpan[ProtocolLimits.HeaderSize..].ToArray();
    }

    private static byte[] SnapshotChunk((byte[] Key, byte[] Value, ulong Sequence)[] records)
    {
        var writer = new ArrayBufferWriter<byte>();
        var header = writer.GetSpan(SnapshotChunkHeader.Size);
        header[0] = 1;
        BinaryPrimitives.WriteUInt64LittleEndian(header[1..], (ulong)records.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[9..], (uint)records.Length);
        writer.Advance(SnapshotChunkHeader.Size);
        foreach (var (key, value, sequence) in records)
        {
            writer.Write(Fields(key, value));
            writer.Write(UInt64(sequence));
        }
        return writer.WrittenSpan.ToArray();
    }
}
