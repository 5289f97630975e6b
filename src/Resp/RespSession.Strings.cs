using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>The string family: GET, SET (and SETNX, SETEX), MGET and MSET, as native reads and writes.</summary>
internal sealed partial class RespSession
{
    private const string ExpiryNotSupported = "ERR expiry (EX, PX, EXAT, PXAT, SETEX, PSETEX) is not supported by KvnDb: keys do not expire";

    private void Get(in RespRequest request)
    {
        if (!KeysFit(request, 1, 1))
            return;
        ulong number;
        lock (_replyLock)
            number = BeginSlot(ReplyKind.Get).Number;
        var header = NativeFrames.Key(_scratch, Opcode.Get, number, request[1]);
        _core.SubmitRead(this, header, new ReadOnlySequence<byte>(_scratch.WrittenMemory), _flush);
    }

    /// <summary>
    /// SET key value [NX|XX] [GET] [KEEPTTL]. Plain SET is one write; with NX, XX or GET it is one
    /// SetWhen, evaluated by every node at apply time: atomic, and in order with the connection's other writes.
    /// </summary>
    private void Set(in RespRequest request)
    {
        var condition = SetCondition.Always;
        var returnOld = false;
        var keepTtl = false;
        for (var i = 3; i < request.Count; i++)
        {
            var option = request[i];
            if (RespCommandTable.Is(option, "NX"u8) && condition == SetCondition.Always)
                condition = SetCondition.IfAbsent;
            else if (RespCommandTable.Is(option, "XX"u8) && condition == SetCondition.Always)
                condition = SetCondition.IfPresent;
            else if (RespCommandTable.Is(option, "GET"u8))
                returnOld = true;
            else if (RespCommandTable.Is(option, "KEEPTTL"u8))
                keepTtl = true;
            else if (RespCommandTable.Is(option, "EX"u8) || RespCommandTable.Is(option, "PX"u8)
                || RespCommandTable.Is(option, "EXAT"u8) || RespCommandTable.Is(option, "PXAT"u8))
            {
                ReplyError(ExpiryNotSupported);
                return;
            }
            else
            {
                ReplyError("ERR syntax error");
                return;
            }
        }
        if (!KeysFit(request, 1, 1))
            return;

        if (condition == SetCondition.Always && !returnOld && !keepTtl)
        {
            ulong number;
            lock (_replyLock)
                number = BeginSlot(ReplyKind.Write).Number;
            var header = NativeFrames.KeyValue(_scratch, number, request[1], request[2]);
            _core.SubmitWrite(this, header, new ReadOnlySequence<byte>(_scratch.WrittenMemory), _flush);
            return;
        }

        SubmitConditionalSet(request, condition, returnOld, integerReply: false, keepTtl);
    }

    /// <summary>SETNX key value: SET NX answering 1 or 0 (StackExchange.Redis sends it for When.NotExists).</summary>
    private void SetNx(in RespRequest request)
    {
        if (KeysFit(request, 1, 1))
            SubmitConditionalSet(request, SetCondition.IfAbsent, returnOld: false, integerReply: true);
    }

    private void SubmitConditionalSet(in RespRequest request, SetCondition condition, bool returnOld, bool integerReply, bool keepTtl = false)
    {
        ulong number;
        lock (_replyLock)
        {
            var slot = BeginSlot(ReplyKind.ConditionalSet);
            slot.Condition = condition;
            slot.ReturnOld = returnOld;
            slot.IntegerReply = integerReply;
            number = slot.Number;
        }
        var when = condition switch
        {
            SetCondition.IfAbsent => WriteCondition.NotExists,
            SetCondition.IfPresent => WriteCondition.Exists,
            _ => WriteCondition.Always,
        };
        // Without KEEPTTL the write clears the key's expiry, as a Redis SET does (RESP sets no expiry yet).
        var options = (returnOld ? SetOptions.ReturnOld : SetOptions.None) | (keepTtl ? SetOptions.KeepTtl : SetOptions.None);
        var header = NativeFrames.SetWhen(_scratch, number, new SetWhenHeader(when, options, 0, 0), request[1], request[2]);
        _core.SubmitWrite(this, header, new ReadOnlySequence<byte>(_scratch.WrittenMemory), _flush);
    }

    /// <summary>SETEX and PSETEX: refused until keys can expire.</summary>
    private void SetEx() => ReplyError(ExpiryNotSupported);

    private void MultiGet(in RespRequest request)
    {
        if (!KeysFit(request, 1, 1))
            return;
        ulong number;
        lock (_replyLock)
            number = BeginSlot(ReplyKind.MultiGet).Number;
        var header = NativeFrames.Counted(_scratch, Opcode.MultiGet, number, request, 1);
        _core.SubmitRead(this, header, new ReadOnlySequence<byte>(_scratch.WrittenMemory), _flush);
    }

    /// <summary>MSET is one MultiSet write: every node applies all pairs under one sequence.</summary>
    private void MultiSet(in RespRequest request)
    {
        if (request.Count % 2 == 0)
        {
            ReplyError("ERR wrong number of arguments for 'mset' command");
            return;
        }
        if (!KeysFit(request, 1, 2))
            return;
        ulong number;
        lock (_replyLock)
            number = BeginSlot(ReplyKind.Write).Number;
        var header = NativeFrames.Counted(_scratch, Opcode.MultiSet, number, request, 2);
        _core.SubmitWrite(this, header, new ReadOnlySequence<byte>(_scratch.WrittenMemory), _flush);
    }
}
