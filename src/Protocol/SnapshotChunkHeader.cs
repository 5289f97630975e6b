using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// The fixed start of a snapshot chunk (the donor's SnapshotRead reply, forwarded unchanged as the
/// joiner's SnapshotApply body): <c>[u8 done][u64 donor key count][u32 count]</c>, then
/// <see cref="Count"/> records <c>[field key][field value][u64 sequence][i64 expires at, Unix ms, 0 when none]</c>
/// (written by <see cref="SnapshotChunkWriter"/>, read by <see cref="SnapshotChunkReader"/>).
/// </summary>
public readonly record struct SnapshotChunkHeader(bool Done, ulong DonorKeys, uint Count)
{
    public const int Size = 1 + 8 + 4;

    /// <summary>Size of one record in a chunk.</summary>
    public static int RecordSize(int keyLength, int valueLength) =>
        FrameWriter.FieldSize(keyLength) + FrameWriter.FieldSize(valueLength) + 8 + 8;

    public void Write(Span<byte> destination)
    {
        destination[0] = Done ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[1..], DonorKeys);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[9..], Count);
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out SnapshotChunkHeader header)
    {
        header = default;
        if (body.Length < Size || body[0] > 1)
            return false;
        header = new SnapshotChunkHeader(body[0] == 1, BinaryPrimitives.ReadUInt64LittleEndian(body[1..]), BinaryPrimitives.ReadUInt32LittleEndian(body[9..]));
        return true;
    }

    /// <summary>The header of a chunk still in the pipe (the router reads only this much before forwarding).</summary>
    public static bool TryRead(in ReadOnlySequence<byte> body, out SnapshotChunkHeader header)
    {
        if (body.FirstSpan.Length >= Size)
            return TryRead(body.FirstSpan, out header);
        header = default;
        if (body.Length < Size)
            return false;
        Span<byte> copy = stackalloc byte[Size];
        body.Slice(0, Size).CopyTo(copy);
        return TryRead(copy, out header);
    }
}
