using FASTER.core;

namespace KvnDb.Node.Storage;

/// <summary>
/// A FASTER device that reports every failed write. FASTER logs a failed write at most (and only with a
/// logger): a failed page flush leaves the store waiting forever, a failed index or metadata write
/// leaves a torn checkpoint that looks complete. Wrapping the devices is how the engine hears of it.
/// Everything else is passed through unchanged.
/// </summary>
internal sealed class WatchedDevice : IDevice
{
    private readonly IDevice _inner;
    private readonly Action<string, uint> _onWriteFailed;
    private readonly DeviceIOCompletionCallback _completion;

    public WatchedDevice(IDevice inner, Action<string, uint> onWriteFailed)
    {
        _inner = inner;
        _onWriteFailed = onWriteFailed;
        _completion = OnWriteCompleted;
    }

    public uint SectorSize => _inner.SectorSize;

    public string FileName => _inner.FileName;

    public long Capacity => _inner.Capacity;

    public long SegmentSize => _inner.SegmentSize;

    public int StartSegment => _inner.StartSegment;

    public int EndSegment => _inner.EndSegment;

    public int ThrottleLimit
    {
        get => _inner.ThrottleLimit;
        set => _inner.ThrottleLimit = value;
    }

    public void Initialize(long segmentSize, LightEpoch? epoch = null, bool omitSegmentIdFromFilename = false) =>
        _inner.Initialize(segmentSize, epoch!, omitSegmentIdFromFilename);

    public bool TryComplete() => _inner.TryComplete();

    public bool Throttle() => _inner.Throttle();

    // A write is a page or a checkpoint file: one small state object per write is nothing next to it.
    public void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        _inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, _completion, new PendingWrite(callback, context));

    public void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        _inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, _completion, new PendingWrite(callback, context));

    public void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
        _inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);

    public void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context) =>
        _inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, aligned_read_length, callback, context);

    public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result) => _inner.TruncateUntilAddressAsync(toAddress, callback, result);

    public void TruncateUntilAddress(long toAddress) => _inner.TruncateUntilAddress(toAddress);

    public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result) => _inner.TruncateUntilSegmentAsync(toSegment, callback, result);

    public void TruncateUntilSegment(int toSegment) => _inner.TruncateUntilSegment(toSegment);

    public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result) => _inner.RemoveSegmentAsync(segment, callback, result);

    public void RemoveSegment(int segment) => _inner.RemoveSegment(segment);

    public long GetFileSize(int segment) => _inner.GetFileSize(segment);

    public void Reset() => _inner.Reset();

    public void Dispose() => _inner.Dispose();

    private void OnWriteCompleted(uint errorCode, uint numBytes, object context)
    {
        var write = (PendingWrite)context;
        if (errorCode != 0)
            _onWriteFailed(_inner.FileName, errorCode);
        write.Callback(errorCode, numBytes, write.Context);
    }

    private sealed record PendingWrite(DeviceIOCompletionCallback Callback, object Context);
}
