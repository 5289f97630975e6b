using System.IO.Hashing;

namespace KvnDb.Node;

/// <summary>
/// A key's 128-bit XxHash, standing in for the key where only set membership matters (which keys a
/// sync has seen): 16 bytes whatever the key's length, and a collision is as unlikely as a random one
/// among 2^128. Two ulongs rather than a <see cref="UInt128"/>, which aligns to 16 and would pad a set's entries.
/// </summary>
internal readonly struct KeyHash(ulong low, ulong high) : IEquatable<KeyHash>
{
    private readonly ulong _low = low;
    private readonly ulong _high = high;

    public static KeyHash Of(ReadOnlySpan<byte> key)
    {
        var hash = XxHash128.HashToUInt128(key);
        return new KeyHash((ulong)hash, (ulong)(hash >> 64));
    }

    public bool Equals(KeyHash other) => _low == other._low && _high == other._high;

    public override bool Equals(object? obj) => obj is KeyHash other && Equals(other);

    public override int GetHashCode() => (int)_low;
}
