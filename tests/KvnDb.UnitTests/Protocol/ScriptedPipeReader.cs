using System.Buffers;
using System.IO.Pipelines;

namespace KvnDb.UnitTests.Protocol;

/// <summary>
/// A pipe reader over fixed bytes that makes <c>step</c> more bytes visible per read, each byte its
/// own segment when <c>oneSegmentPerByte</c>: the worst case a socket can hand over. It records what
/// the loop consumed and refuses a read that would return nothing new after everything was examined.
/// </summary>
internal sealed class ScriptedPipeReader(byte[] data, int step, bool oneSegmentPerByte = true) : PipeReader
{
    private ReadOnlySequence<byte> _last;
    private int _visible;
    private bool _canceled;

    /// <summary>Bytes the loop has consumed so far.</summary>
    public int Consumed { get; private set; }

    /// <summary>Bytes the loop has examined so far.</summary>
    public int Examined { get; private set; }

    public int Reads { get; private set; }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        Reads++;
        if (_canceled)
        {
            _canceled = false;
            return new(new ReadResult(Slice(), isCanceled: true, isCompleted: false));
        }
        // Only show new bytes once the loop has looked at all it was given (what a real pipe does).
        if (Examined >= _visible)
            _visible = Math.Min(data.Length, _visible + step);
        return new(new ReadResult(Slice(), isCanceled: false, isCompleted: _visible == data.Length));
    }

    private ReadOnlySequence<byte> Slice()
    {
        var bytes = data.AsMemory(Consumed, _visible - Consumed);
        _last = oneSegmentPerByte && bytes.Length > 1
            ? Segments.Create([.. Enumerable.Range(0, bytes.Length).Select(i => bytes.Slice(i, 1))])
            : new ReadOnlySequence<byte>(bytes);
        return _last;
    }

    public override bool TryRead(out ReadResult result) => throw new NotSupportedException();

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var start = Consumed;
        Consumed = start + (int)_last.Slice(_last.Start, consumed).Length;
        Examined = start + (int)_last.Slice(_last.Start, examined).Length;
    }

    public override void CancelPendingRead() => _canceled = true;

    public override void Complete(Exception? exception = null)
    {
    }
}
