using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>
/// MULTI, EXEC, DISCARD, WATCH and UNWATCH. Commands between MULTI and EXEC are turned into native operations
/// as they arrive (syntax and arity checked then, as Redis checks them) and answered QUEUED; EXEC sends them all
/// as one Batch: one sequence, applied atomically by every node in order with every other write, an operation
/// failing on its value (INCR of a word) answering its error while the others apply, as in Redis. WATCH reads
/// the watched keys' versions; EXEC carries them as guards, evaluated by the nodes when they apply the batch,
/// so a key changed by anyone in between (or expired) makes EXEC answer null and change nothing.
/// </summary>
internal sealed partial class RespSession
{
    private bool _multi;
    private bool _multiDirty;

    /// <summary>A queued command is being handled: operations and local replies go to the queue.</summary>
    private bool _queueing;

    private List<QueuedCommand> _queue = [];
    private List<WatchedKey> _watched = [];

    /// <summary>WATCH reads not answered yet (under the reply lock); EXEC waits for them.</summary>
    private int _watchesPending;
    private TaskCompletionSource? _watchWaiter;

    private void Multi()
    {
        if (_multi)
        {
            ReplyError("ERR MULTI calls can not be nested");
            return;
        }
        _multi = true;
        _multiDirty = false;
        _queue = [];
        _ops.Clear();
        _opBodies.ResetWrittenCount();
        ReplyOk();
    }

    private void Discard()
    {
        if (!_multi)
        {
            ReplyError("ERR DISCARD without MULTI");
            return;
        }
        ResetMulti();
        Unwatch();
        ReplyOk();
    }

    private void ResetMulti()
    {
        _multi = false;
        _multiDirty = false;
        _queue = [];
        _ops.Clear();
        _opBodies.ResetWrittenCount();
    }

    /// <summary>A command arriving inside MULTI: queued, refused (and the transaction marked failed), or one that ends it.</summary>
    private BatchOutcome Queue(RespCommand command, in RespRequest request)
    {
        if (command == RespCommand.Save)
        {
            ReplyError("ERR Command not allowed inside a transaction");
            _multiDirty = true;
            return BatchOutcome.Continue;
        }
        if (!RespCommandTable.Info(command).Queueable)
        {
            ReplyError($"ERR {RespCommandTable.Info(command).Name.ToUpperInvariant()} inside MULTI is not supported by KvnDb");
            _multiDirty = true;
            return BatchOutcome.Continue;
        }
        _queueing = true;
        try
        {
            Dispatch(command, request);
        }
        finally
        {
            _queueing = false;
            _command = null;
        }
        RespWriter.WriteSimple(_local, "QUEUED"u8);
        SendLocal();
        return BatchOutcome.Continue;
    }

    /// <summary>EXEC: waits for the WATCH versions if need be, then sends the queue as one Batch.</summary>
    private BatchOutcome Exec()
    {
        if (!_multi)
        {
            ReplyError("ERR EXEC without MULTI");
            return BatchOutcome.Continue;
        }
        lock (_replyLock)
        {
            if (_watchesPending > 0)
            {
                _watchWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return BatchOutcome.WaitForWatches;
            }
        }
        if (_multiDirty)
        {
            ResetMulti();
            Unwatch();
            ReplyError("EXECABORT Transaction discarded because of previous errors.");
            return BatchOutcome.Continue;
        }
        var queue = _queue;
        var guards = new List<(byte[] Key, ulong Version)>(_watched.Count);
        foreach (var watched in _watched)
            guards.Add((watched.StoredKey, watched.Version));
        if (_ops.Count == 0 && guards.Count == 0)
        {
            RespWriter.WriteArrayHeader(_local, queue.Count);
            foreach (var queued in queue)
                _local.Write(queued.Local);
            ResetMulti();
            SendLocal();
            return BatchOutcome.Continue;
        }
        if (_ops.Count == 0)
        {
            // Only local replies, but the watched keys must still be checked where they live: one read of a guarded key.
            var hidden = new QueuedCommand(ReplyKind.Exists, _resp3) { Hidden = true, Parts = 1 };
            queue.Add(hidden);
            AddKeyOp(Opcode.Exists, guards[0].Key);
        }
        ulong number;
        lock (_replyLock)
        {
            var slot = BeginSlot(ReplyKind.Exec);
            slot.Queue = queue;
            number = slot.Number;
        }
        var header = WriteBatch(Opcode.Batch, number, guards, 0, _ops.Count);
        ResetMulti();
        Unwatch();
        Submit(header);
        return BatchOutcome.Continue;
    }

    /// <summary>Completes once every WATCH read has been answered.</summary>
    private Task WatchesAnsweredAsync()
    {
        lock (_replyLock)
            return _watchesPending == 0 || _watchWaiter is null ? Task.CompletedTask : _watchWaiter.Task;
    }

    private void Watch(in RespRequest request)
    {
        if (_multi)
        {
            ReplyError("ERR WATCH inside MULTI is not allowed");
            return;
        }
        for (var i = 1; i < request.Count; i++)
        {
            if (!KeyFits(request[i]))
                return;
        }
        var shape = BeginCommand(ReplyKind.Watch);
        var slot = (ReplySlot)shape;
        lock (_replyLock)
        {
            slot.First = _watched.Count;
            slot.Watches = _watched;
            _watchesPending++;
            for (var i = 1; i < request.Count; i++)
            {
                var key = DbKey(request[i]);
                _watched.Add(new WatchedKey(key.ToArray()));
                AddKeyOp(Opcode.TimeToLive, key);
            }
        }
        EndCommand();
    }

    private void Unwatch()
    {
        // A WATCH still being answered fills the old list, which nobody reads any more.
        _watched = [];
    }

    /// <summary>The versions a WATCH read (one TimeToLive, or a Batch of them); then its OK. Under the reply lock.</summary>
    private void OnWatchReply(ReplySlot slot, StatusCode status, ReadOnlySpan<byte> body)
    {
        var watches = slot.Watches!;
        var first = (int)slot.First;
        if (status.IsError())
        {
            for (var i = first; i < first + slot.Parts && i < watches.Count; i++)
                watches[i].Version = WatchedKey.Broken;
        }
        else if (slot.Batched)
        {
            TransactionReply.TryRead(body, out var entries);
            for (var i = first; i < first + slot.Parts && i < watches.Count; i++)
                watches[i].Version = entries.TryReadNext(out var entryStatus, out var entry) ? VersionOf(entryStatus, entry) : WatchedKey.Broken;
        }
        else if (first < watches.Count)
        {
            watches[first].Version = VersionOf(status, body);
        }
        if (--_watchesPending == 0 && _watchWaiter is not null)
        {
            _watchWaiter.TrySetResult();
            _watchWaiter = null;
        }
        Deliver(slot, 0, static (w, _) => RespWriter.WriteOk(w));
    }

    private static ulong VersionOf(StatusCode status, ReadOnlySpan<byte> body) =>
        status == StatusCode.NotFound ? 0
        : status == StatusCode.Ok && TimeToLiveReply.TryRead(body, out var version, out _, out _) ? version
        : WatchedKey.Broken;

    /// <summary>EXEC's reply: every queued command's reply in order, null when a watched key changed. Under the reply lock.</summary>
    private void OnExecReply(ReplySlot slot, StatusCode status, ReadOnlySpan<byte> body)
    {
        _render.ResetWrittenCount();
        if (status == StatusCode.ConditionFailed)
        {
            _render.Write(slot.Resp3 ? "_\r\n"u8 : "*-1\r\n"u8);
        }
        else if (status.IsError() || !TransactionReply.TryRead(body, out var entries))
        {
            _server.ErrorReplied();
            RespWriter.WriteError(_render, status.IsError() ? ReplyRenderer.ErrorText(status, body) : "ERR malformed transaction reply from the node");
        }
        else
        {
            var queue = slot.Queue!;
            var visible = 0;
            foreach (var queued in queue)
                visible += queued.Hidden ? 0 : 1;
            RespWriter.WriteArrayHeader(_render, visible);
            foreach (var queued in queue)
            {
                if (queued.Local is not null)
                {
                    _render.Write(queued.Local);
                    continue;
                }
                if (queued.Hidden)
                {
                    entries.TryReadNext(out _, out _);
                    continue;
                }
                for (var errors = ReplyRenderer.RenderEntries(_render, queued, ref entries); errors > 0; errors--)
                    _server.ErrorReplied();
            }
        }
        DeliverRendered(slot);
    }
}
