using System.Buffers;

namespace KvnDb.Fuzzing;

/// <summary>
/// Bytes a peer sends and where the transport cuts them: each split point starts a new buffer
/// segment (unit tests) or a new socket send (integration tests). Printed as hex so a failing case
/// found by CsCheck can be pasted into a regression test.
/// </summary>
internal sealed record FuzzInput(byte[] Bytes, int[] Splits)
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
    public ReadOnlySequence<byte> ToSequence()
    {
        var pieces = Pieces();
        if (pieces.Count == 1)
            return new ReadOnlySequence<byte>(pieces[0]);
        var first = new Segment(pieces[0], 0);
        var last = first;
        foreach (var piece in pieces.Skip(1))
            last = last.Append(piece);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public override string ToString() =>
        $"FuzzInput.FromHex(\"{Convert.ToHexString(Bytes)}\"{string.Concat(Splits.Select(s => $", {s}"))})";

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
