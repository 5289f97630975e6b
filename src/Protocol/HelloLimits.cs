namespace KvnDb.Protocol;

/// <summary>
/// The router's flow limits, after the frame and key limits at the end of a client's hello reply (when the client's
/// hello asked for them, <see cref="HelloRequest.ClientReadsLimits"/>): <c>[u32 max request body][u32 max in flight][u64 output limit]</c>.
/// A client sends no body above the first, keeps at most the second requests in flight (past it the router stops
/// reading the connection), and reads its replies before the third is left unread (past it the router cuts it off).
/// </summary>
public readonly record struct HelloLimits(int MaxRequestBody, int MaxInFlight, long OutputLimit)
{
    public const int Size = 4 + 4 + 8;

    internal void Write(ref FrameBuilder frame)
    {
        frame.UInt32((uint)MaxRequestBody);
        frame.UInt32((uint)MaxInFlight);
        frame.UInt64((ulong)OutputLimit);
    }

    internal static bool TryRead(ref BodyReader reader, out HelloLimits limits)
    {
        limits = default;
        if (!reader.TryReadUInt32(out var body) || !reader.TryReadUInt32(out var inFlight) || !reader.TryReadUInt64(out var output))
            return false;
        if (body is 0 or > int.MaxValue || inFlight is 0 or > int.MaxValue || output is 0 or > long.MaxValue)
            return false;
        limits = new HelloLimits((int)body, (int)inFlight, (long)output);
        return true;
    }
}
