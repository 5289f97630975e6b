using System.Net.Sockets;
using KvnDb.Protocol;

namespace KvnDb.Client;

internal sealed partial class ClientConnection
{
    private async Task SendLoopAsync()
    {
        var reader = _sendPipe.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                    await _stream.WriteAsync(segment).ConfigureAwait(false);
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                    break;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            FailAll(ex);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception reason = new KvnDbConnectionException("router closed the connection");
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                    break;
                Volatile.Write(ref _lastReceivedMs, Environment.TickCount64);
                var buffer = result.Buffer;
                while (true)
                {
                    var status = FrameReader.TryRead(ref buffer, _options.MaxFrameSize, out var header, out var frame);
                    if (status == FrameReadStatus.NeedMoreData)
                        break;
                    if (status == FrameReadStatus.TooLarge)
                        throw new KvnDbProtocolException($"router sent a frame of {header.BodyLength} bytes, above the limit", StatusCode.FrameTooLarge);
                    Dispatch(header, frame);
                }
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                    break;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or KvnDbException)
        {
            reason = ex;
        }
        finally
        {
            FailAll(reason);
            await _input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private void Dispatch(in FrameHeader header, in System.Buffers.ReadOnlySequence<byte> frame)
    {
        if (header.Opcode == Opcode.Ping && (header.Flags & FrameFlags.Response) == 0)
        {
            AnswerPing(header.RequestId); // the router checks on us
            return;
        }
        PendingOperation? pending;
        lock (_pendingLock)
        {
            if (!_pending.TryGetValue(header.RequestId, out pending))
                return; // timed out or cancelled (or our own ping): the late reply is dropped
            _consecutiveTimeouts = 0;
            if (!header.HasMore || header.Status.IsError())
                _pending.Remove(header.RequestId);
            else
                pending.DeadlineMs = Environment.TickCount64 + (long)_options.RequestTimeout.TotalMilliseconds;
        }
        using var bytes = new ContiguousBytes(frame);
        pending.OnResponse(header, bytes.Span[ProtocolLimits.HeaderSize..]);
    }
}
