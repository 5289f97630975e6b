using System.Buffers;
using System.Buffers.Text;
using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>
/// The string family: GET, SET with every option, SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX, MGET, MSET,
/// MSETNX, APPEND, STRLEN, GETRANGE, SETRANGE and LCS. Everything that depends on the current value is one
/// native operation evaluated by every node when it applies it (atomic, in order with the connection's writes).
/// </summary>
internal sealed partial class RespSession
{
    /// <summary>Redis's proto-max-bulk-len default: the longest string SETRANGE may make.</summary>
    private const long MaxStringLength = 512L * 1024 * 1024;

    private void Get(in RespRequest request)
    {
        if (!KeyFits(request[1]))
            return;
        if (_queueing || _database != 0)
        {
            BeginCommand(ReplyKind.Get);
            AddKeyOp(Opcode.Get, DbKey(request[1]));
            EndCommand();
            return;
        }
        ulong number;
        lock (_replyLock)
            number = BeginSlot(ReplyKind.Get).Number;
        var header = NativeFrames.Key(_scratch, Opcode.Get, number, request[1]);
        _core.SubmitRead(this, header, new ReadOnlySequence<byte>(_scratch.WrittenMemory), _flush);
    }

    /// <summary>SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL].</summary>
    private void Set(in RespRequest request)
    {
        var condition = SetCondition.Always;
        var returnOld = false;
        var keepTtl = false;
        var expiry = ExpiryKind.None;
        long expiryValue = 0;
        for (var i = 3; i < request.Count; i++)
        {
            var option = request[i];
            var hasNext = i + 1 < request.Count;
            if (RespCommandTable.Is(option, "NX"u8) && condition != SetCondition.IfPresent)
                condition = SetCondition.IfAbsent;
            else if (RespCommandTable.Is(option, "XX"u8) && condition != SetCondition.IfAbsent)
                condition = SetCondition.IfPresent;
            else if (RespCommandTable.Is(option, "GET"u8))
                returnOld = true;
            else if (RespCommandTable.Is(option, "KEEPTTL"u8) && expiry == ExpiryKind.None)
                keepTtl = true;
            else if (!keepTtl && hasNext && ParseExpiryOption(option) is var kind && kind != ExpiryKind.None && (expiry == ExpiryKind.None || expiry == kind))
            {
                expiry = kind;
                if (!TryParseInteger(request[++i], out expiryValue))
                {
                    ReplyError("ERR value is not an integer or out of range");
                    return;
                }
            }
            else
            {
                ReplyError("ERR syntax error");
                return;
            }
        }
        if (!KeyFits(request[1]))
            return;
        SetWhenHeader header;
        if (expiry != ExpiryKind.None)
        {
            if (!TryExpiryMilliseconds(expiry, expiryValue, out var milliseconds, out var absolute))
            {
                ReplyError("ERR invalid expire time in 'set' command");
                return;
            }
            header = new SetWhenHeader(When(condition), (returnOld ? SetOptions.ReturnOld : SetOptions.None)
                | (absolute ? SetOptions.ExpiryAbsolute : SetOptions.ExpiryRelative), 0, milliseconds);
        }
        else
        {
            header = new SetWhenHeader(When(condition), (returnOld ? SetOptions.ReturnOld : SetOptions.None) | (keepTtl ? SetOptions.KeepTtl : SetOptions.None), 0, 0);
        }

        if (header.Condition == WriteCondition.Always && header.Options == SetOptions.None && !_queueing && _database == 0)
        {
            ulong number;
            lock (_replyLock)
                number = BeginSlot(ReplyKind.Write).Number;
            var frame = NativeFrames.KeyValue(_scratch, number, request[1], request[2]);
            _core.SubmitWrite(this, frame, new ReadOnlySequence<byte>(_scratch.WrittenMemory), _flush);
            return;
        }
        SubmitSetWhen(request[1], request[2], header, returnOld, integerReply: false);
    }

    private static WriteCondition When(SetCondition condition) => condition switch
    {
        SetCondition.IfAbsent => WriteCondition.NotExists,
        SetCondition.IfPresent => WriteCondition.Exists,
        _ => WriteCondition.Always,
    };

    private void SubmitSetWhen(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, in SetWhenHeader header, bool returnOld, bool integerReply)
    {
        var shape = BeginCommand(ReplyKind.ConditionalSet);
        shape.ReturnOld = returnOld;
        shape.IntegerReply = integerReply;
        var stored = DbKey(key);
        SetWhenRequest.WriteBody(AddOp(Opcode.SetWhen, SetWhenRequest.BodyLength(stored.Length, value.Length)), header, stored, value);
        EndCommand();
    }

    /// <summary>SETNX key value: SET NX answering 1 or 0.</summary>
    private void SetNx(in RespRequest request)
    {
        if (KeyFits(request[1]))
            SubmitSetWhen(request[1], request[2], new SetWhenHeader(WriteCondition.NotExists, SetOptions.None, 0, 0), returnOld: false, integerReply: true);
    }

    /// <summary>SETEX key seconds value and PSETEX key milliseconds value.</summary>
    private void SetEx(in RespRequest request, bool milliseconds)
    {
        if (!TryParseInteger(request[2], out var amount))
        {
            ReplyError("ERR value is not an integer or out of range");
            return;
        }
        if (!TryExpiryMilliseconds(milliseconds ? ExpiryKind.Px : ExpiryKind.Ex, amount, out var ms, out _))
        {
            ReplyError($"ERR invalid expire time in '{(milliseconds ? "psetex" : "setex")}' command");
            return;
        }
        if (KeyFits(request[1]))
            SubmitSetWhen(request[1], request[3], new SetWhenHeader(WriteCondition.Always, SetOptions.ExpiryRelative, 0, ms), returnOld: false, integerReply: false);
    }

    /// <summary>GETSET key value: SET ... GET (clears the expiry).</summary>
    private void GetSet(in RespRequest request)
    {
        if (KeyFits(request[1]))
            SubmitSetWhen(request[1], request[2], new SetWhenHeader(WriteCondition.Always, SetOptions.ReturnOld, 0, 0), returnOld: true, integerReply: false);
    }

    private void GetDel(in RespRequest request)
    {
        if (!KeyFits(request[1]))
            return;
        BeginCommand(ReplyKind.OldValue);
        AddKeyOp(Opcode.GetDelete, DbKey(request[1]));
        EndCommand();
    }

    /// <summary>GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]: one GetExpire, or a plain GET without options.</summary>
    private void GetEx(in RespRequest request)
    {
        var expiry = ExpiryKind.None;
        var persist = false;
        long amount = 0;
        for (var i = 2; i < request.Count; i++)
        {
            var kind = ParseExpiryOption(request[i]);
            if (kind != ExpiryKind.None && expiry == ExpiryKind.None && !persist && i + 1 < request.Count)
            {
                expiry = kind;
                if (!TryParseInteger(request[++i], out amount))
                {
                    ReplyError("ERR value is not an integer or out of range");
                    return;
                }
            }
            else if (RespCommandTable.Is(request[i], "PERSIST"u8) && expiry == ExpiryKind.None && !persist)
            {
                persist = true;
            }
            else
            {
                ReplyError("ERR syntax error");
                return;
            }
        }
        if (!KeyFits(request[1]))
            return;
        if (expiry == ExpiryKind.None && !persist)
        {
            BeginCommand(ReplyKind.Get);
            AddKeyOp(Opcode.Get, DbKey(request[1]));
            EndCommand();
            return;
        }
        var mode = ExpiryMode.Persist;
        long ms = 0;
        if (!persist)
        {
            if (!TryExpiryMilliseconds(expiry, amount, out ms, out var absolute))
            {
                ReplyError("ERR invalid expire time in 'getex' command");
                return;
            }
            mode = absolute ? ExpiryMode.Absolute : ExpiryMode.Relative;
        }
        BeginCommand(ReplyKind.OldValue);
        var key = DbKey(request[1]);
        ExpireRequest.WriteBody(AddOp(Opcode.GetExpire, ExpireRequest.BodyLength(key.Length)), mode, ExpiryCondition.Always, ms, key);
        EndCommand();
    }

    private void MultiGet(in RespRequest request)
    {
        for (var i = 1; i < request.Count; i++)
        {
            if (!KeyFits(request[i]))
                return;
        }
        if (_queueing || _database != 0)
        {
            BeginCommand(ReplyKind.MultiGet);
            for (var i = 1; i < request.Count; i++)
                AddKeyOp(Opcode.Get, DbKey(request[i]));
            if (_queueing)
                EndCommand();
            else
                SubmitMultiGetOfOps();
            return;
        }
        ulong number;
        lock (_replyLock)
            number = BeginSlot(ReplyKind.MultiGet).Number;
        var header = NativeFrames.Counted(_scratch, Opcode.MultiGet, number, request, 1);
        _core.SubmitRead(this, header, new ReadOnlySequence<byte>(_scratch.WrittenMemory), _flush);
    }

    /// <summary>MGET in another database: one MultiGet read of the namespaced keys (not a Batch, which would be a write).</summary>
    private void SubmitMultiGetOfOps()
    {
        _command = null;
        _scratch.ResetWrittenCount();
        var bodyLength = CountedBodyWriter.HeaderSize;
        foreach (var op in _ops)
            bodyLength += op.Length; // each Get body is exactly one key field
        var body = new CountedBodyWriter(_scratch, Opcode.MultiGet, FrameFlags.None, _commandNumber, bodyLength, _ops.Count, 1);
        foreach (var op in _ops)
        {
            KeyRequest.TryRead(_opBodies.WrittenSpan.Slice(op.Offset, op.Length), out var key);
            body.Field(key);
        }
        body.Complete();
        Submit(FrameHeader.Read(_scratch.WrittenSpan));
    }

    /// <summary>MSET is one MultiSet write: every node applies all pairs under one sequence.</summary>
    private void MultiSet(in RespRequest request)
    {
        if (request.Count % 2 == 0)
        {
            ReplyError("ERR wrong number of arguments for 'mset' command");
            return;
        }
        for (var i = 1; i < request.Count; i += 2)
        {
            if (!KeyFits(request[i]))
                return;
        }
        if (_queueing || _database != 0)
        {
            BeginCommand(ReplyKind.Write);
            for (var i = 1; i < request.Count; i += 2)
            {
                var key = DbKey(request[i]);
                SetRequest.WriteBody(AddOp(Opcode.Set, SetRequest.BodyLength(key.Length, request[i + 1].Length)), key, request[i + 1]);
            }
            EndCommand();
            return;
        }
        ulong number;
        lock (_replyLock)
            number = BeginSlot(ReplyKind.Write).Number;
        var header = NativeFrames.Counted(_scratch, Opcode.MultiSet, number, request, 2);
        _core.SubmitWrite(this, header, new ReadOnlySequence<byte>(_scratch.WrittenMemory), _flush);
    }

    /// <summary>MSETNX: one Transaction whose guards say every key is absent (version 0): all set, or none.</summary>
    private void MultiSetNx(in RespRequest request)
    {
        if (request.Count % 2 == 0)
        {
            ReplyError("ERR wrong number of arguments for 'msetnx' command");
            return;
        }
        var guards = new List<(byte[] Key, ulong Version)>();
        for (var i = 1; i < request.Count; i += 2)
        {
            if (!KeyFits(request[i]))
                return;
            guards.Add((DbKey(request[i]).ToArray(), 0));
        }
        BeginCommand(ReplyKind.Flag);
        for (var i = 1; i < request.Count; i += 2)
        {
            var key = DbKey(request[i]);
            SetRequest.WriteBody(AddOp(Opcode.Set, SetRequest.BodyLength(key.Length, request[i + 1].Length)), key, request[i + 1]);
        }
        EndCommand(guards);
    }

    private void Append(in RespRequest request)
    {
        if (!KeyFits(request[1]))
            return;
        BeginCommand(ReplyKind.Integer);
        var key = DbKey(request[1]);
        SetRequest.WriteBody(AddOp(Opcode.Append, SetRequest.BodyLength(key.Length, request[2].Length)), key, request[2]);
        EndCommand();
    }

    /// <summary>STRLEN, TYPE, OBJECT ENCODING: one read of the value, answered with what the command asks about it.</summary>
    private void ReadAbout(ReadOnlySpan<byte> key, ReplyKind kind, Opcode opcode = Opcode.Get)
    {
        if (!KeyFits(key))
            return;
        BeginCommand(kind);
        AddKeyOp(opcode, DbKey(key));
        EndCommand();
    }

    private void GetRange(in RespRequest request)
    {
        if (!TryParseInteger(request[2], out var start) || !TryParseInteger(request[3], out var end))
        {
            ReplyError("ERR value is not an integer or out of range");
            return;
        }
        if (!KeyFits(request[1]))
            return;
        var shape = BeginCommand(ReplyKind.GetRange);
        shape.First = start;
        shape.Last = end;
        AddKeyOp(Opcode.Get, DbKey(request[1]));
        EndCommand();
    }

    /// <summary>GETBIT key offset: one read of the value; bit 0 is the most significant bit of the first byte.</summary>
    private void GetBit(in RespRequest request)
    {
        if (!TryParseInteger(request[2], out var offset) || offset is < 0 or >= (1L << 32))
        {
            ReplyError("ERR bit offset is not an integer or out of range");
            return;
        }
        if (!KeyFits(request[1]))
            return;
        var shape = BeginCommand(ReplyKind.GetBit);
        shape.First = offset;
        AddKeyOp(Opcode.Get, DbKey(request[1]));
        EndCommand();
    }

    private void SetRange(in RespRequest request)
    {
        if (!TryParseInteger(request[2], out var offset))
        {
            ReplyError("ERR value is not an integer or out of range");
            return;
        }
        if (offset < 0)
        {
            ReplyError("ERR offset is out of range");
            return;
        }
        if (offset + request[3].Length > MaxStringLength)
        {
            ReplyError("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
            return;
        }
        if (!KeyFits(request[1]))
            return;
        BeginCommand(ReplyKind.Integer);
        var key = DbKey(request[1]);
        SetRangeRequest.WriteBody(AddOp(Opcode.SetRange, SetRangeRequest.BodyLength(key.Length, request[3].Length)), (ulong)offset, key, request[3]);
        EndCommand();
    }

    /// <summary>LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: one MultiGet, computed by the router (it changes nothing).</summary>
    private void Lcs(in RespRequest request)
    {
        var mode = LongestCommonSubsequence.ModeString;
        long minimum = 0;
        var withLength = false;
        for (var i = 3; i < request.Count; i++)
        {
            if (RespCommandTable.Is(request[i], "LEN"u8))
                mode = mode == LongestCommonSubsequence.ModeIndexes ? -1 : LongestCommonSubsequence.ModeLength;
            else if (RespCommandTable.Is(request[i], "IDX"u8))
                mode = mode == LongestCommonSubsequence.ModeLength ? -1 : LongestCommonSubsequence.ModeIndexes;
            else if (RespCommandTable.Is(request[i], "WITHMATCHLEN"u8))
                withLength = true;
            else if (RespCommandTable.Is(request[i], "MINMATCHLEN"u8) && i + 1 < request.Count)
            {
                if (!TryParseInteger(request[++i], out minimum))
                {
                    ReplyError("ERR value is not an integer or out of range");
                    return;
                }
                minimum = Math.Max(0, minimum);
            }
            else
            {
                ReplyError("ERR syntax error");
                return;
            }
            if (mode < 0)
            {
                ReplyError("ERR If you want both the length and indexes, please just use IDX.");
                return;
            }
        }
        if (_queueing)
        {
            ReplyError("ERR LCS inside MULTI is not supported by KvnDb");
            return;
        }
        if (!KeyFits(request[1]) || !KeyFits(request[2]))
            return;
        var shape = BeginCommand(ReplyKind.Lcs);
        shape.Variant = mode;
        shape.First = minimum;
        shape.Last = withLength ? 1 : 0;
        AddKeyOp(Opcode.Get, DbKey(request[1]));
        AddKeyOp(Opcode.Get, DbKey(request[2]));
        SubmitMultiGetOfOps();
    }

    private enum ExpiryKind { None, Ex, Px, ExAt, PxAt }

    private static ExpiryKind ParseExpiryOption(ReadOnlySpan<byte> option) =>
        RespCommandTable.Is(option, "EX"u8) ? ExpiryKind.Ex
        : RespCommandTable.Is(option, "PX"u8) ? ExpiryKind.Px
        : RespCommandTable.Is(option, "EXAT"u8) ? ExpiryKind.ExAt
        : RespCommandTable.Is(option, "PXAT"u8) ? ExpiryKind.PxAt
        : ExpiryKind.None;

    /// <summary>An expiry option in milliseconds (relative or absolute); false where Redis answers "invalid expire time".</summary>
    private static bool TryExpiryMilliseconds(ExpiryKind kind, long amount, out long milliseconds, out bool absolute)
    {
        absolute = kind is ExpiryKind.ExAt or ExpiryKind.PxAt;
        milliseconds = 0;
        if (amount <= 0)
            return false;
        if (kind is ExpiryKind.Ex or ExpiryKind.ExAt)
        {
            if (amount > long.MaxValue / 1000)
                return false;
            amount *= 1000;
        }
        // A relative time that would overflow once the router's clock is added is refused, as Redis refuses it.
        if (!absolute && amount > long.MaxValue - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
            return false;
        milliseconds = amount;
        return true;
    }

    /// <summary>A whole argument as a 64-bit integer, as Redis's string2ll reads it (no blanks, no plus sign, no leading zeros).</summary>
    private static bool TryParseInteger(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 20 || text[0] == (byte)'+' || (text.Length > 1 && text[0] == (byte)'0') || (text.Length > 2 && text[0] == (byte)'-' && text[1] == (byte)'0'))
            return false;
        return Utf8Parser.TryParse(text, out value, out var used) && used == text.Length && !(text.Length > 1 && text[0] == (byte)'-' && value == 0);
    }
}
