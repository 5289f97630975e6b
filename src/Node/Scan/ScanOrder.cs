using System.IO.Hashing;
using KvnDb.Protocol;

namespace KvnDb.Node.Scan;

/// <summary>
/// Where a key sits in a scan (docs/protocol.md section 5.5): a function of the key alone, the same on every node,
/// so a scan position from one node means the same on another. The 64-bit order is the key's slot
/// (<see cref="KeySlot"/>, 14 bits) followed by the top 50 bits of its XXH3-64 hash (seed 0); the key's scan
/// position (<see cref="ScanKeysRequest.PositionBits"/> bits) is the order's top 48 bits. Keys are hashed as their
/// database sees them, without the namespace prefix.
/// </summary>
internal static class ScanOrder
{
    private const int SlotShift = 64 - 14;
    private const int PositionShift = 64 - ScanKeysRequest.PositionBits;

    public static ulong Of(ReadOnlySpan<byte> databaseKey) =>
        ((ulong)KeySlot.Of(databaseKey) << SlotShift) | (XxHash3.HashToUInt64(databaseKey) >> (64 - SlotShift));

    public static ulong PositionOf(ulong order) => order >> PositionShift;

    /// <summary>The smallest order of a key in <paramref name="slot"/>.</summary>
    public static ulong FirstOrderOfSlot(int slot) => (ulong)slot << SlotShift;

    /// <summary>The slot of a key of this order.</summary>
    public static int SlotOf(ulong order) => (int)(order >> SlotShift);

    /// <summary>The smallest order at <paramref name="position"/>.</summary>
    public static ulong FirstOrderAt(ulong position) => position << PositionShift;
}
