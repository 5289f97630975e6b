using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// The outbound side of one client connection, shared by every thread that answers on it (a
/// client's replies come from many node links). Node links have a <c>NodeSender</c> instead. Writes append under a
/// short lock; <see cref="Flush"/> sends once per batch and never waits: a flush completes at once
/// unless the peer has left more than the output limit unread (Kestrel's <c>MaxWriteBufferSize</c>),
/// and then the peer is cut off, as Redis does with client-output-buffer-limit. So no lock is ever
/// held across an await and one slow reader cannot make the router buffer without bound.
/// </summary>
internal sealed class OutputChannel(PipeWriter writer, Action? onOutputLimit = null)
{
    private readonly Lock _lock = new();
    private bool _closed;
    private Task _abandonedFlush = Task.CompletedTask;

    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>The flush left pending when the peer was cut off; it ends once the connection does, and never faults.</summary>
    public Task AbandonedFlush
    {
        get
        {
            lock (_lock)
                return _abandonedFlush;
        }
    }

    /// <summary>Copies a frame as it is, with a new request id (and optionally new flags).</summary>
    public bool TryForward(in ReadOnlySequence<byte> frame, ulong requestId)
    {
        lock (_lock)
        {
            if (_closed)
                return false;
            var length = (int)frame.Length;
            var span = writer.GetSpan(length);
            frame.CopyTo(span);
            FrameHeader.WriteRequestId(span, requestId);
            writer.Advance(length);
            return true;
        }
    }

    public void WriteStatus(Opcode opcode, ulong requestId, StatusCode status)
    {
        lock (_lock)
        {
            if (!_closed)
                FrameWriter.WriteHeaderOnly(writer, new FrameHeader(0, opcode, FrameFlags.Response, status, requestId));
        }
    }

    public void WriteError(Opcode opcode, ulong requestId, StatusCode status, string message)
    {
        lock (_lock)
        {
            if (!_closed)
                FrameWriter.WriteError(writer, opcode, requestId, status, message);
        }
    }

    public void WriteRaw(Opcode opcode, ulong requestId, ReadOnlySpan<byte> body)
    {
        lock (_lock)
        {
            if (!_closed)
                FrameWriter.WriteRaw(writer, opcode, FrameFlags.Response, StatusCode.Ok, requestId, body);
        }
    }

    /// <summary>Lets a caller write with the raw writer (hello replies); the action runs under the lock.</summary>
    public void Write<TState>(TState state, Action<IBufferWriter<byte>, TState> write)
    {
        lock (_lock)
        {
            if (!_closed)
                write(writer, state);
        }
    }

    public void Flush()
    {
        lock (_lock)
        {
            if (_closed || writer.UnflushedBytes == 0)
                return;
            var flush = writer.FlushAsync();
            if (flush.IsCompleted)
            {
                if (flush.Result.IsCompleted)
                    _closed = true; // the peer is gone: stop buffering for it
            }
            else
            {
                // The peer stopped reading and its unread output passed the limit: stop writing and cut it off.
                _closed = true;
                _abandonedFlush = AbandonAsync(flush);
                onOutputLimit?.Invoke();
            }
        }
    }

    /// <summary>Nobody needs the result of the cut-off peer's flush, but its fault (the aborted connection) is observed here.</summary>
    private static async Task AbandonAsync(ValueTask<FlushResult> flush) =>
        await ((Task)flush.AsTask()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    /// <summary>Stops all further writes; what was flushed is still sent.</summary>
    public void Close()
    {
        lock (_lock)
            _closed = true;
    }
}
