using System.Buffers;

namespace KvnDb.Fuzzing;

/// <summary>
/// Bytes a peer sends and where the transport cuts them: each split point starts a new buffer
/// segment (unit tests) or a new socket send (integration tests). Printed as hex so a failing case
/// found by CsCheck can be pasted into a regression test.
/// </summary>
public sealed record FuzzInput(byte[] Bytes, int[] Splits)
{
    public static FuzzInput FromHex(string hex, params int[] splits) => new(Convert.FromHexString(hex), splits);

    /// <summary>The bytes cut at the split points (empty pieces dropped).</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Pieces()
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        var start = 0;
        foreach (var split in Splits.Where(s => s > 0 && s < Bytes.Length).Distinct().Order())
        {
            pieces.Add(Bytes.AsMemory(start, split - start));
            start = split;
        }
        if (start < Bytes.Length || pieces.Count == 0)
            pieces.Add(Bytes.AsMemory(start));
        return pieces;
    }

    /// <summary>The bytes as a (possibly multi-segment) sequence, the shape a pipe hands over.</summary>
    public ReadOnlySequence<byte> ToSequence() => KvnDb.Testing.Segments.Create([.. Pieces()]);

    public override string ToString() =>
        $"FuzzInput.FromHex(\"{Convert.ToHexString(Bytes)}\"{string.Concat(Splits.Select(s => $", {s}"))})";
}
