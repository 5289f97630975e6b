using System.Buffers;
using System.Diagnostics;
using HdrHistogram;

namespace KvnDb.Bench;

/// <summary>
/// The replies a connection waits for: the wire's read loop reports each one here, which times it
/// from the start of its batch and says when the batch is complete. Reused from batch to batch.
/// </summary>
internal sealed class ReplyBatch
{
    private byte[] _scratch = [];
    private long _started;
    private int _wanted;
    private int _received;
    private LongHistogram? _histogram;

    public long MinTicks { get; private set; } = long.MaxValue;

    public long MaxTicks { get; private set; }

    /// <summary>Error replies of the current batch.</summary>
    public int Errors { get; private set; }

    /// <summary>Whether the wire should keep the text of an error reply (handshakes only: it allocates).</summary>
    public bool KeepsErrorText { get; private set; }

    /// <summary>The text of the last error reply, when <see cref="KeepsErrorText"/>.</summary>
    public string? LastError { get; set; }

    public void ResetExtremes()
    {
        MinTicks = long.MaxValue;
        MaxTicks = 0;
    }

    /// <summary>Starts timing a batch of <paramref name="count"/> replies.</summary>
    public void Begin(int count, LongHistogram? histogram, bool keepErrorText = false)
    {
        _wanted = count;
        _received = 0;
        Errors = 0;
        _histogram = histogram;
        KeepsErrorText = keepErrorText;
        LastError = null;
        _started = Stopwatch.GetTimestamp();
    }

    /// <summary>One reply of the batch arrived; true when it was the last one.</summary>
    public bool OnReply(bool isError)
    {
        var elapsed = Stopwatch.GetTimestamp() - _started;
        if (isError)
            Errors++;
        _histogram?.RecordValue(elapsed);
        if (elapsed < MinTicks)
            MinTicks = elapsed;
        if (elapsed > MaxTicks)
            MaxTicks = elapsed;
        return ++_received == _wanted;
    }

    /// <summary>A reply that straddles buffer segments, copied into a reused scratch buffer.</summary>
    public ReadOnlySpan<byte> Contiguous(scoped in ReadOnlySequence<byte> buffer)
    {
        if (_scratch.Length < buffer.Length)
            _scratch = new byte[Math.Max(buffer.Length, _scratch.Length * 2L)];
        buffer.CopyTo(_scratch);
        return _scratch.AsSpan(0, (int)buffer.Length);
    }
}
