using System.Buffers;
using System.Net.Sockets;
using KvnDb.Protocol;

namespace KvnDb.Client;

internal sealed partial class ClientConnection
{
    private string? _closedByRouter;

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
        Exception reason;
        try
        {
            var exit = await FrameLoop.RunAsync(_input, new Replies(this), new ReadLimit(this)).ConfigureAwait(false);
            reason = new KvnDbConnectionException(exit == FrameLoopExit.Truncated
                ? "router closed the connection in the middle of a reply"
                : "router closed the connection");
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or KvnDbException)
        {
            reason = ex;
        }
#pragma warning disable CA1031 // any failure of reply handling ends the connection, and every waiting caller learns why
        catch (Exception ex)
#pragma warning restore CA1031
        {
            reason = new KvnDbConnectionException($"a reply could not be handled ({ex.GetType().Name}: {ex.Message}); the connection is closed", ex);
        }
        // The router said why it closed (it is stopping): that is the reason the requests in flight fail with.
        FailAll(Volatile.Read(ref _closedByRouter) is { } said ? new KvnDbConnectionException(said) : reason);
        await _input.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>The read loop's handler: each reply goes to the request waiting for its id.</summary>
    private readonly struct Replies(ClientConnection connection) : IFrameHandler
    {
        public FrameAction OnFrame(in FrameHeader header, in ReadOnlySequence<byte> frame)
        {
            connection.Dispatch(header, frame);
            return FrameAction.Continue;
        }

        public ValueTask OnFrameAsync(FrameHeader header, ReadOnlySequence<byte> frame, CancellationToken cancellationToken) => default;

        /// <summary>A read came back: the router is not silent (the heartbeat check looks at this).</summary>
        public ValueTask OnBatchEndAsync(CancellationToken cancellationToken)
        {
            connection._heartbeat.Heard(Environment.TickCount64);
            return default;
        }

        public ValueTask OnPausedAsync(CancellationToken cancellationToken) => default;

        public void OnFrameTooLarge(in FrameHeader header) =>
            throw new KvnDbProtocolException($"router sent a frame of {(uint)header.BodyLength} bytes, above the limit", StatusCode.FrameTooLarge);
    }

    private void Dispatch(in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        if (header.Opcode == Opcode.Ping && (header.Flags & FrameFlags.Response) == 0)
        {
            AnswerPing(header.RequestId); // the router checks on us
            return;
        }
        if (header.Opcode == Opcode.Closing)
        {
            using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
            Volatile.Write(ref _closedByRouter, $"router closed the connection ({header.Status}): {ClosingNotice.Read(body.Span)}");
            return;
        }
        PendingOperation? pending;
        var final = !header.HasMore || header.Status.IsError();
        var slotFreed = false;
        lock (_pendingLock)
        {
            if (!_pending.TryGetValue(header.RequestId, out pending))
            {
                // Timed out or cancelled (or our own ping): the late reply is dropped, and the router's slot is free again.
                if (final && _owed.Count > 0 && _owed.Remove(header.RequestId))
                    _slots?.Give();
                return;
            }
            _heartbeat.Answered();
            if (final)
            {
                _pending.Remove(header.RequestId);
                slotFreed = pending.HoldsSlot;
                pending.HoldsSlot = false;
            }
            else if (pending.DeadlineMs != long.MaxValue)
            {
                pending.DeadlineMs = Environment.TickCount64 + (long)_options.RequestTimeout.TotalMilliseconds;
            }
        }
        if (slotFreed)
            _slots?.Give();
        using var bytes = new ContiguousBytes(frame);
        pending.OnResponse(header, bytes.Span[ProtocolLimits.HeaderSize..]);
    }
}
