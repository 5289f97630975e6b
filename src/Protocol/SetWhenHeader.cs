using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// The fixed start of a <see cref="Opcode.SetWhen"/> body: <c>[u8 condition][u8 options][u64 expected
/// version][i64 expiry]</c> (expiry in milliseconds, relative or absolute per <see cref="SetOptions"/>; 0 when none).
/// </summary>
public readonly record struct SetWhenHeader(WriteCondition Condition, SetOptions Options, ulong Version, long Expiry)
{
    public const int Size = 1 + 1 + 8 + 8;

    private const SetOptions KnownOptions = SetOptions.ReturnOld | SetOptions.KeepTtl | SetOptions.ExpiryRelative | SetOptions.ExpiryAbsolute;

    public bool HasExpiry => (Options & (SetOptions.ExpiryRelative | SetOptions.ExpiryAbsolute)) != 0;

    /// <summary>Well formed: a known condition and options, at most one expiry kind, a positive expiry when one is given, no expiry with KeepTtl.</summary>
    public bool IsValid
    {
        get
        {
            if (Condition > WriteCondition.VersionEquals || (Options & ~KnownOptions) != 0)
                return false;
            var relative = (Options & SetOptions.ExpiryRelative) != 0;
            var absolute = (Options & SetOptions.ExpiryAbsolute) != 0;
            if (relative && absolute)
                return false;
            if ((relative || absolute) && ((Options & SetOptions.KeepTtl) != 0 || Expiry <= 0))
                return false;
            return relative || absolute || Expiry == 0;
        }
    }

    public void Write(Span<byte> destination)
    {
        destination[0] = (byte)Condition;
        destination[1] = (byte)Options;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[2..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(destination[10..], Expiry);
    }

    public static bool TryRead(ReadOnlySpan<byte> source, out SetWhenHeader header)
    {
        header = default;
        if (source.Length < Size)
            return false;
        header = new SetWhenHeader((WriteCondition)source[0], (SetOptions)source[1],
            BinaryPrimitives.ReadUInt64LittleEndian(source[2..]), BinaryPrimitives.ReadInt64LittleEndian(source[10..]));
        return true;
    }
}
