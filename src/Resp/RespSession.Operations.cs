using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>
/// How commands become native operations: a command begins (<see cref="BeginCommand"/>: its reply slot, or its
/// place in a MULTI queue), adds one or more operation bodies (<see cref="AddOp"/>), and ends
/// (<see cref="EndCommand"/>): one operation goes out as itself, several as one Batch (atomic, one sequence),
/// and inside MULTI they wait for EXEC. Keys of databases 1 to 15 are namespaced here (<see cref="DbKey"/>).
/// </summary>
internal sealed partial class RespSession
{
    private readonly ArrayBufferWriter<byte> _opBodies = new(256);
    private readonly List<QueuedOperation> _ops = [];
    private ReplyShape? _command;
    private ulong _commandNumber;
    private int _commandFirstOp;
    private byte[] _keyA = new byte[64];
    private byte[] _keyB = new byte[64];

    /// <summary>The selected database (SELECT), 0 to 15.</summary>
    private int _database;

    /// <summary>One operation body in <see cref="_opBodies"/>.</summary>
    private readonly record struct QueuedOperation(Opcode Opcode, int Offset, int Length);

    /// <summary>A key as the nodes store it: itself in database 0, behind its database's prefix otherwise.</summary>
    private ReadOnlySpan<byte> DbKey(ReadOnlySpan<byte> key, bool second = false) => DbKeyIn(_database, key, second);

    private ReadOnlySpan<byte> DbKeyIn(int database, ReadOnlySpan<byte> key, bool second = false)
    {
        if (database == 0)
            return key;
        ref var buffer = ref second ? ref _keyB : ref _keyA;
        if (buffer.Length < key.Length + DatabaseKeys.PrefixSize)
            buffer = new byte[Math.Max(key.Length + DatabaseKeys.PrefixSize, buffer.Length * 2)];
        DatabaseKeys.WritePrefix(buffer, database);
        key.CopyTo(buffer.AsSpan(DatabaseKeys.PrefixSize));
        return buffer.AsSpan(0, key.Length + DatabaseKeys.PrefixSize);
    }

    /// <summary>The prefix every stored key of the selected database starts with (empty for database 0).</summary>
    private static byte[] DatabasePrefix(int database)
    {
        if (database == 0)
            return [];
        var prefix = new byte[DatabaseKeys.PrefixSize];
        DatabaseKeys.WritePrefix(prefix, database);
        return prefix;
    }

    /// <summary>Starts a command answered from native operations; set the shape's parameters before <see cref="EndCommand"/>.</summary>
    private ReplyShape BeginCommand(ReplyKind kind)
    {
        if (_queueing)
        {
            var queued = new QueuedCommand(kind, _resp3);
            _queue.Add(queued);
            _command = queued;
            _commandFirstOp = _ops.Count;
            return queued;
        }
        _ops.Clear();
        _opBodies.ResetWrittenCount();
        _commandFirstOp = 0;
        lock (_replyLock)
        {
            var slot = BeginSlot(kind);
            _commandNumber = slot.Number;
            _command = slot;
            return slot;
        }
    }

    /// <summary>Adds an operation of exactly <paramref name="bodyLength"/> bytes; write its body into the span at once.</summary>
    private Span<byte> AddOp(Opcode opcode, int bodyLength)
    {
        var offset = _opBodies.WrittenCount;
        var span = _opBodies.GetSpan(bodyLength)[..bodyLength];
        _opBodies.Advance(bodyLength);
        _ops.Add(new QueuedOperation(opcode, offset, bodyLength));
        return span;
    }

    private void AddKeyOp(Opcode opcode, ReadOnlySpan<byte> storedKey) =>
        KeyRequest.WriteBody(AddOp(opcode, KeyRequest.BodyLength(storedKey.Length)), storedKey);

    /// <summary>Sends the command's operations (or leaves them queued for EXEC).</summary>
    private void EndCommand(IReadOnlyList<(byte[] Key, ulong Version)>? guards = null)
    {
        var shape = _command!;
        _command = null;
        shape.Parts = _ops.Count - _commandFirstOp;
        if (_queueing)
            return;
        if (shape.Parts == 1 && guards is null)
        {
            var op = _ops[0];
            _scratch.ResetWrittenCount();
            var span = _scratch.GetSpan(ProtocolLimits.HeaderSize + op.Length);
            var header = new FrameHeader(op.Length, op.Opcode, FrameFlags.None, StatusCode.Ok, _commandNumber);
            header.Write(span);
            _opBodies.WrittenSpan.Slice(op.Offset, op.Length).CopyTo(span[ProtocolLimits.HeaderSize..]);
            _scratch.Advance(ProtocolLimits.HeaderSize + op.Length);
            Submit(header);
            return;
        }
        lock (_replyLock)
            ((ReplySlot)shape).Batched = true;
        Submit(WriteBatch(guards is null ? Opcode.Batch : Opcode.Transaction, _commandNumber, guards, 0, _ops.Count));
    }

    /// <summary>A Batch (or guarded Transaction) frame of operations [first, first + count) into <see cref="_scratch"/>.</summary>
    private FrameHeader WriteBatch(Opcode opcode, ulong number, IReadOnlyList<(byte[] Key, ulong Version)>? guards, int first, int count)
    {
        var bodyLength = TransactionRequest.FixedSize;
        var guardCount = guards?.Count ?? 0;
        for (var i = 0; i < guardCount; i++)
            bodyLength += TransactionRequest.GuardSize(guards![i].Key.Length);
        for (var i = first; i < first + count; i++)
            bodyLength += TransactionRequest.OperationSize(_ops[i].Length);
        _scratch.ResetWrittenCount();
        var span = _scratch.GetSpan(ProtocolLimits.HeaderSize + bodyLength);
        var header = new FrameHeader(bodyLength, opcode, FrameFlags.None, StatusCode.Ok, number);
        header.Write(span);
        var body = new TransactionBodyWriter(span.Slice(ProtocolLimits.HeaderSize, bodyLength), guardCount);
        for (var i = 0; i < guardCount; i++)
            body.Guard(guards![i].Key, guards[i].Version);
        body.BeginOperations(count);
        for (var i = first; i < first + count; i++)
        {
            var op = _ops[i];
            _opBodies.WrittenSpan.Slice(op.Offset, op.Length).CopyTo(body.Operation(op.Opcode, op.Length));
        }
        body.Complete();
        _scratch.Advance(ProtocolLimits.HeaderSize + bodyLength);
        return header;
    }

    private void Submit(in FrameHeader header)
    {
        var frame = new ReadOnlySequence<byte>(_scratch.WrittenMemory);
        if (header.Opcode.IsRead())
            _core.SubmitRead(this, header, frame, _flush);
        else
            _core.SubmitWrite(this, header, frame, _flush);
    }
}
