using System.Text;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.Node.Commands;

/// <summary>
/// Evaluates one sequenced write against the keys at apply time, with the write's router time: the
/// same write on the same data gives the same outcome on every node (status and reply body, written to
/// <c>body</c>), which is what makes conditional writes, counters and transactions atomic without a
/// lock (DESIGN.md section 3, docs/protocol.md "Determinism"). Bodies were validated before.
/// Failures that depend on the value (not a number, too large) are statuses with a fixed message,
/// decided before anything is written.
/// </summary>
internal sealed class CommandEvaluator(int maxFrameSize)
{
    private readonly ScratchBuffer _value = new();
    private readonly ScratchBuffer _operation = new();
    private readonly TransactionStage _stage = new();

    public StatusCode Evaluate(IKeyStore store, Opcode opcode, ReadOnlySpan<byte> request, ulong sequence, long now, ScratchBuffer body)
    {
        switch (opcode)
        {
            case Opcode.Set:
            {
                SetRequest.TryRead(request, out var key, out var value);
                store.Write(key, value, 0, sequence);
                return StatusCode.Ok;
            }
            case Opcode.Delete:
            {
                KeyRequest.TryRead(request, out var key);
                return store.Delete(key, now, sequence) ? StatusCode.Ok : StatusCode.NotFound;
            }
            case Opcode.MultiSet:
            {
                MultiSetRequest.TryRead(request, out var pairs);
                while (pairs.TryReadNext(out var key, out var value))
                    store.Write(key, value, 0, sequence);
                return StatusCode.Ok;
            }
            case Opcode.SetWhen:
                return SetWhen(store, request, sequence, now, body);
            case Opcode.GetDelete:
                return GetDelete(store, request, sequence, now, body);
            case Opcode.Increment:
                return Increment(store, request, sequence, now, body);
            case Opcode.IncrementFloat:
                return IncrementFloat(store, request, sequence, now, body);
            case Opcode.Append:
                return Append(store, request, sequence, now, body);
            case Opcode.SetRange:
                return SetRange(store, request, sequence, now, body);
            case Opcode.Expire:
                return Expire(store, request, sequence, now, body);
            case Opcode.TimeMark when store is NodeStore node:
            {
                var removed = node.RemoveExpired(now, sequence);
                TimeMarkReply.WriteBody(body.Take(TimeMarkReply.Size), removed, node.Expiry.NextDue);
                return StatusCode.Ok;
            }
            case Opcode.Transaction when store is NodeStore node:
                return Transaction(node, request, sequence, now, body, continueOnError: false);
            case Opcode.Batch when store is NodeStore node:
                return Transaction(node, request, sequence, now, body, continueOnError: true);
            case Opcode.GetExpire:
                return GetExpire(store, request, sequence, now, body);
            case Opcode.CopyKey:
                return CopyKey(store, request, sequence, now);
            case Opcode.FlushKeys when store is NodeStore node:
            {
                KeyCountRequest.TryRead(request, out var database);
                node.Flush(database, now, sequence);
                return StatusCode.Ok;
            }
            case Opcode.Get or Opcode.Exists or Opcode.GetVersioned or Opcode.TimeToLive:
                return ReadInside(store, opcode, request, now, body);
            case Opcode.MigrationApply when store is NodeStore node:
            {
                SnapshotChunkReader.TryRead(request, out var chunk);
                while (chunk.TryReadNext(out var key, out var value, out var copied, out var expiresAt))
                    node.ApplyMigrated(key, value, copied != 0, expiresAt, now, sequence);
                node.Engine.MarkApplied(sequence);
                return StatusCode.Ok;
            }
            case Opcode.FlushSlots when store is NodeStore node:
            {
                FlushSlotsRequest.TryRead(request, out var slots);
                node.FlushSlots(slots, now, sequence);
                return StatusCode.Ok;
            }
            default:
                return Fail(body, StatusCode.ProtocolError, $"{opcode} is not a write this node evaluates here");
        }
    }

    private static StatusCode SetWhen(IKeyStore store, ReadOnlySpan<byte> request, ulong sequence, long now, ScratchBuffer body)
    {
        SetWhenRequest.TryRead(request, out var header, out var key, out var value);
        var exists = store.TryRead(key, now, out var current);
        using (current)
        {
            var version = exists ? current.Sequence : 0;
            var holds = header.Condition switch
            {
                WriteCondition.NotExists => !exists,
                WriteCondition.Exists => exists,
                WriteCondition.VersionEquals => version == header.Version,
                _ => true,
            };
            var returnOld = (header.Options & SetOptions.ReturnOld) != 0;
            var old = current.Value.Span;
            if (!holds)
            {
                WriteVersionedValue(body, version, old, returnOld && exists);
                return StatusCode.ConditionFailed;
            }
            var expiresAt = (header.Options & SetOptions.KeepTtl) != 0 ? current.ExpiresAt
                : (header.Options & SetOptions.ExpiryRelative) != 0 ? AddSaturated(now, header.Expiry)
                : (header.Options & SetOptions.ExpiryAbsolute) != 0 ? header.Expiry
                : 0;
            // The reply is written before the store changes: the old value may live in the store's own memory.
            if (expiresAt != 0 && expiresAt <= now)
            {
                WriteVersionedValue(body, 0, old, returnOld && exists);
                store.Delete(key, now, sequence); // an expiry already past: set and gone at once, as Redis does
                return StatusCode.Ok;
            }
            WriteVersionedValue(body, sequence, old, returnOld && exists);
            store.Write(key, value, expiresAt, sequence);
            return StatusCode.Ok;
        }
    }

    private static StatusCode GetDelete(IKeyStore store, ReadOnlySpan<byte> request, ulong sequence, long now, ScratchBuffer body)
    {
        KeyRequest.TryRead(request, out var key);
        if (!store.TryRead(key, now, out var current))
        {
            store.Delete(key, now, sequence); // an expired leftover goes too, alike everywhere
            return StatusCode.NotFound;
        }
        using (current)
            WriteVersionedValue(body, current.Sequence, current.Value.Span, present: true);
        store.Delete(key, now, sequence);
        return StatusCode.Ok;
    }

    private StatusCode Increment(IKeyStore store, ReadOnlySpan<byte> request, ulong sequence, long now, ScratchBuffer body)
    {
        IncrementRequest.TryRead(request, out var delta, out var key);
        var exists = store.TryRead(key, now, out var current);
        long result;
        long expiresAt;
        using (current)
        {
            var value = 0L;
            if (exists && !DecimalText.TryParseInteger(current.Value.Span, out value))
                return Fail(body, StatusCode.InvalidValue, "value is not an integer or out of range");
            if ((delta > 0 && value > long.MaxValue - delta) || (delta < 0 && value < long.MinValue - delta))
                return Fail(body, StatusCode.InvalidValue, "increment or decrement would overflow");
            result = value + delta;
            expiresAt = current.ExpiresAt; // an increment keeps the key's expiry, as in Redis
        }
        _value.Reset();
        var text = _value.Take(DecimalText.MaxIntegerLength);
        var length = DecimalText.FormatInteger(result, text);
        store.Write(key, text[..length], expiresAt, sequence);
        VersionedNumberReply.WriteBody(body.Take(VersionedNumberReply.Size), sequence, result);
        return StatusCode.Ok;
    }

    private StatusCode IncrementFloat(IKeyStore store, ReadOnlySpan<byte> request, ulong sequence, long now, ScratchBuffer body)
    {
        FloatIncrementRequest.TryRead(request, out var delta, out var key);
        var exists = store.TryRead(key, now, out var current);
        double result;
        long expiresAt;
        using (current)
        {
            var value = 0.0;
            if (exists && !DecimalText.TryParseFloat(current.Value.Span, out value))
                return Fail(body, StatusCode.InvalidValue, "value is not a valid float");
            result = value + delta;
            if (!double.IsFinite(result))
                return Fail(body, StatusCode.InvalidValue, "increment would produce NaN or Infinity");
            expiresAt = current.ExpiresAt;
        }
        _value.Reset();
        var text = _value.Take(DecimalText.MaxFloatLength);
        var length = DecimalText.FormatFloat(result, text);
        store.Write(key, text[..length], expiresAt, sequence);
        WriteVersionedValue(body, sequence, text[..length], present: true);
        return StatusCode.Ok;
    }

    private StatusCode Append(IKeyStore store, ReadOnlySpan<byte> request, ulong sequence, long now, ScratchBuffer body)
    {
        SetRequest.TryRead(request, out var key, out var suffix);
        var exists = store.TryRead(key, now, out var current);
        using (current)
        {
            var old = exists ? current.Value.Span : default;
            if (old.Length + (long)suffix.Length > WriteLimits.MaxValueLength(maxFrameSize, key.Length))
                return Fail(body, StatusCode.InvalidValue, "string exceeds maximum allowed size");
            _value.Reset();
            var combined = _value.Take(old.Length + suffix.Length);
            old.CopyTo(combined);
            suffix.CopyTo(combined[old.Length..]);
            store.Write(key, combined, current.ExpiresAt, sequence);
            VersionedNumberReply.WriteBody(body.Take(VersionedNumberReply.Size), sequence, combined.Length);
        }
        return StatusCode.Ok;
    }

    private StatusCode SetRange(IKeyStore store, ReadOnlySpan<byte> request, ulong sequence, long now, ScratchBuffer body)
    {
        SetRangeRequest.TryRead(request, out var offset, out var key, out var patch);
        var exists = store.TryRead(key, now, out var current);
        using (current)
        {
            var old = exists ? current.Value.Span : default;
            if (patch.IsEmpty)
            {
                // Nothing to write: Redis answers the length and leaves the key (and a missing key) alone.
                VersionedNumberReply.WriteBody(body.Take(VersionedNumberReply.Size), exists ? current.Sequence : 0, old.Length);
                return StatusCode.Ok;
            }
            var limit = WriteLimits.MaxValueLength(maxFrameSize, key.Length);
            if (offset > (ulong)limit || (long)offset + patch.Length > limit)
                return Fail(body, StatusCode.InvalidValue, "string exceeds maximum allowed size");
            var length = Math.Max(old.Length, (int)offset + patch.Length);
            _value.Reset();
            var combined = _value.Take(length);
            old.CopyTo(combined);
            combined[old.Length..].Clear();
            patch.CopyTo(combined[(int)offset..]);
            store.Write(key, combined, current.ExpiresAt, sequence);
            VersionedNumberReply.WriteBody(body.Take(VersionedNumberReply.Size), sequence, length);
        }
        return StatusCode.Ok;
    }

    private StatusCode Expire(IKeyStore store, ReadOnlySpan<byte> request, ulong sequence, long now, ScratchBuffer body)
    {
        ExpireRequest.TryRead(request, out var mode, out var condition, out var time, out var key);
        if (!store.TryRead(key, now, out var current))
            return StatusCode.NotFound;
        using (current)
        {
            var expiresAt = current.ExpiresAt;
            if (mode == ExpiryMode.Persist)
            {
                if (expiresAt == 0)
                {
                    VersionedNumberReply.WriteBody(body.Take(VersionedNumberReply.Size), current.Sequence, 0);
                    return StatusCode.ConditionFailed;
                }
                Rewrite(store, key, current.Value.Span, 0, sequence);
                VersionedNumberReply.WriteBody(body.Take(VersionedNumberReply.Size), sequence, 0);
                return StatusCode.Ok;
            }
            var wanted = mode == ExpiryMode.Relative ? AddSaturated(now, time) : time;
            var holds = condition switch
            {
                ExpiryCondition.NoExpiry => expiresAt == 0,
                ExpiryCondition.HasExpiry => expiresAt != 0,
                ExpiryCondition.Later => expiresAt != 0 && wanted > expiresAt, // no expiry is later than any
                ExpiryCondition.Earlier => expiresAt == 0 || wanted < expiresAt,
                ExpiryCondition.HasExpiryEarlier => expiresAt != 0 && wanted < expiresAt,
                _ => true,
            };
            if (!holds)
            {
                VersionedNumberReply.WriteBody(body.Take(VersionedNumberReply.Size), current.Sequence, expiresAt);
                return StatusCode.ConditionFailed;
            }
            VersionedNumberReply.WriteBody(body.Take(VersionedNumberReply.Size), wanted <= now ? 0 : sequence, wanted <= now ? 0 : wanted);
            if (wanted <= now)
                store.Delete(key, now, sequence); // a time already past deletes the key, as Redis does
            else
                Rewrite(store, key, current.Value.Span, wanted, sequence);
            return StatusCode.Ok;
        }
    }

    /// <summary>GETEX: the value, and the expiry changed as an Expire without condition would (a time already past deletes the key).</summary>
    private StatusCode GetExpire(IKeyStore store, ReadOnlySpan<byte> request, ulong sequence, long now, ScratchBuffer body)
    {
        ExpireRequest.TryRead(request, out var mode, out _, out var time, out var key);
        if (!store.TryRead(key, now, out var current))
            return StatusCode.NotFound;
        using (current)
        {
            var wanted = mode switch
            {
                ExpiryMode.Relative => AddSaturated(now, time),
                ExpiryMode.Absolute => time,
                _ => 0,
            };
            var gone = mode != ExpiryMode.Persist && wanted <= now;
            WriteVersionedValue(body, gone ? 0 : sequence, current.Value.Span, present: true);
            if (gone)
                store.Delete(key, now, sequence);
            else
                Rewrite(store, key, current.Value.Span, wanted, sequence);
        }
        return StatusCode.Ok;
    }

    /// <summary>RENAME, COPY, MOVE: the source's value and expiry under a new key (the same on every node, in order).</summary>
    private StatusCode CopyKey(IKeyStore store, ReadOnlySpan<byte> request, ulong sequence, long now)
    {
        CopyKeyRequest.TryRead(request, out var options, out var source, out var target);
        if (!store.TryRead(source, now, out var current))
            return StatusCode.NotFound;
        using (current)
        {
            var replace = (options & CopyKeyOptions.Replace) != 0;
            if (source.SequenceEqual(target))
                return replace ? StatusCode.Ok : StatusCode.ConditionFailed;
            if (!replace && store.TryReadVersion(target, now, out _, out _))
                return StatusCode.ConditionFailed;
            Rewrite(store, target, current.Value.Span, current.ExpiresAt, sequence);
        }
        if ((options & CopyKeyOptions.DeleteSource) != 0)
            store.Delete(source, now, sequence);
        return StatusCode.Ok;
    }

    /// <summary>A read inside a transaction: what the read alone would answer, seen at the write's time through the staged view.</summary>
    private static StatusCode ReadInside(IKeyStore store, Opcode opcode, ReadOnlySpan<byte> request, long now, ScratchBuffer body)
    {
        KeyRequest.TryRead(request, out var key);
        switch (opcode)
        {
            case Opcode.Exists:
                return store.TryReadVersion(key, now, out _, out _) ? StatusCode.Ok : StatusCode.NotFound;
            case Opcode.TimeToLive:
                if (!store.TryReadVersion(key, now, out var version, out var expiresAt))
                    return StatusCode.NotFound;
                TimeToLiveReply.WriteBody(body.Take(TimeToLiveReply.Size), version, expiresAt, expiresAt == 0 ? -1 : expiresAt - now);
                return StatusCode.Ok;
        }
        if (!store.TryRead(key, now, out var current))
            return StatusCode.NotFound;
        using (current)
        {
            var value = current.Value.Span;
            if (opcode == Opcode.Get)
            {
                var field = body.Take(FrameWriter.FieldSize(value.Length));
                FrameWriter.WriteField(field, value);
            }
            else
            {
                VersionedGetReply.WriteBody(body.Take(VersionedGetReply.BodySize(value.Length)), current.Sequence, current.ExpiresAt, value);
            }
        }
        return StatusCode.Ok;
    }

    /// <summary>The value is copied out first: the store may hand back its own memory and overwrite it.</summary>
    private void Rewrite(IKeyStore store, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt, ulong sequence)
    {
        _value.Reset();
        var copy = _value.Take(value.Length);
        value.CopyTo(copy);
        store.Write(key, copy, expiresAt, sequence);
    }

    /// <summary>
    /// Guards first (a failed one answers ConditionFailed with its index, nothing changed), then every
    /// operation against a staged view; any operation failing with an error discards them all. Only
    /// when every one succeeded, and the reply fits in a frame, is the stage committed.
    /// </summary>
    /// <remarks>
    /// With <paramref name="continueOnError"/> (<see cref="Opcode.Batch"/>, Redis's EXEC) an operation failing on its value
    /// (InvalidValue: it changed nothing) answers its error in its entry and the others still apply; any other error
    /// still discards them all.
    /// </remarks>
    private StatusCode Transaction(NodeStore store, ReadOnlySpan<byte> request, ulong sequence, long now, ScratchBuffer body, bool continueOnError)
    {
        TransactionRequest.TryRead(request, out var transaction);
        for (var i = 0; i < transaction.GuardCount; i++)
        {
            transaction.TryReadGuard(out var key, out var expected);
            var live = store.TryReadVersion(key, now, out var version, out _);
            if ((live ? version : 0) != expected)
            {
                TransactionReply.WriteCount(body.Take(4), i);
                return StatusCode.ConditionFailed;
            }
        }
        transaction.TryBeginOperations();
        _stage.Begin(store);
        TransactionReply.WriteCount(body.Take(4), (int)transaction.OperationCount);
        var index = 0;
        while (transaction.TryReadOperation(out var opcode, out var operation))
        {
            _operation.Reset();
            var status = Evaluate(_stage, opcode, operation, sequence, now, _operation);
            if (status.IsError() && !(continueOnError && status == StatusCode.InvalidValue))
            {
                _stage.Discard();
                body.Reset();
                return Fail(body, status, $"transaction operation {index} ({opcode}): {Encoding.UTF8.GetString(_operation.WrittenSpan)}; nothing was applied");
            }
            TransactionReply.WriteEntryHeader(body.Take(TransactionReply.EntryHeaderSize), status, _operation.WrittenCount);
            _operation.WrittenSpan.CopyTo(body.Take(_operation.WrittenCount));
            index++;
        }
        if (body.WrittenCount > maxFrameSize)
        {
            var size = body.WrittenCount;
            _stage.Discard();
            body.Reset();
            return Fail(body, StatusCode.InvalidValue, $"transaction reply of {size} bytes would be above the frame limit; nothing was applied");
        }
        _stage.Commit(now);
        return StatusCode.Ok;
    }

    private static void WriteVersionedValue(ScratchBuffer body, ulong version, ReadOnlySpan<byte> value, bool present) =>
        VersionedValueReply.WriteBody(body.Take(VersionedValueReply.BodySize(present ? value.Length : 0)), version, value, present);

    private static StatusCode Fail(ScratchBuffer body, StatusCode status, string message)
    {
        var bytes = body.Take(Encoding.UTF8.GetByteCount(message));
        Encoding.UTF8.GetBytes(message, bytes);
        return status;
    }

    private static long AddSaturated(long time, long delta) =>
        delta > 0 && time > long.MaxValue - delta ? long.MaxValue
        : delta < 0 && time < long.MinValue - delta ? long.MinValue
        : time + delta;
}
