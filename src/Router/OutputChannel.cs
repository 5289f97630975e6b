using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// The outbound side of one connection, shared by every thread that answers on it (a client's
/// replies come from many node links; a node's requests from many clients). Writes append under a
/// short lock; <see cref="Flush"/> sends once per batch and never waits: a flush completes at once
/// unless the peer has left more than the output limit unread (Kestrel's <c>MaxWriteBufferSize</c>),
/// and then the peer is cut off, as Redis does with client-output-buffer-limit. So no lock is ever
/// held across an await and one slow reader cannot make the router buffer without bound.
/// </summary>
internal sealed class OutputChannel(PipeWriter writer, Action? onOutputLimit = null)
{
    private readonly Lock _lock = new();
    private bool _closed;

    public bool IsClosed => Volatile.Read(ref _closed);

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

    /// <summary>Forwards a bytes-in-hand frame (a read kept for retry) with a new request id.</summary>
    public bool TryForward(ReadOnlySpan<byte> frame, ulong requestId)
    {
        lock (_lock)
        {
            if (_closed)
                return false;
            var span = writer.GetSpan(frame.Length);
            frame.CopyTo(span);
            FrameHeader.WriteRequestId(span, requestId);
            writer.Advance(frame.Length);
            return true;
        }
    }

    /// <summary>A write for a node: the client's frame with its id replaced and the sequence put in front of the body.</summary>
    public bool TryWriteSequenced(in FrameHeader header, in ReadOnlySequence<byte> frame, ulong requestId, ulong sequence)
    {
        lock (_lock)
        {
            if (_closed)
                return false;
            var bodyLength = header.BodyLength + 8;
            var span = writer.GetSpan(ProtocolLimits.HeaderSize + bodyLength);
            new FrameHeader(bodyLength, header.Opcode, header.Flags & FrameFlags.WriteConcernMask, StatusCode.Ok, requestId).Write(span);
            BinaryPrimitives.WriteUInt64LittleEndian(span[ProtocolLimits.HeaderSize..], sequence);
            frame.Slice(ProtocolLimits.HeaderSize).CopyTo(span[(ProtocolLimits.HeaderSize + 8)..]);
            writer.Advance(ProtocolLimits.HeaderSize + bodyLength);
            return true;
        }
    }

    /// <summary>Writes a complete frame held in memory (backlog replays).</summary>
    public bool TryWriteRaw(ReadOnlySpan<byte> frame)
    {
        lock (_lock)
        {
            if (_closed)
                return false;
            writer.Write(frame);
            return true;
        }
    }

    /// <summary>A new frame whose body is copied from another frame's body (snapshot chunks, donor to joiner).</summary>
    public bool TryWriteWithBody(Opcode opcode, FrameFlags flags, ulong requestId, in ReadOnlySequence<byte> body)
    {
        lock (_lock)
        {
            if (_closed)
                return false;
            var length = (int)body.Length;
            var span = writer.GetSpan(ProtocolLimits.HeaderSize + length);
            new FrameHeader(length, opcode, flags, StatusCode.Ok, requestId).Write(span);
            body.CopyTo(span[ProtocolLimits.HeaderSize..]);
            writer.Advance(ProtocolLimits.HeaderSize + length);
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
                flush.AsTask().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
                onOutputLimit?.Invoke();
            }
        }
    }

    /// <summary>Stops all further writes; what was flushed is still sent.</summary>
    public void Close()
    {
        lock (_lock)
            _closed = true;
    }
}
