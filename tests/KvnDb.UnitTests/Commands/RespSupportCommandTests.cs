using System.Text;
using KvnDb.Node;
using KvnDb.Node.Commands;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Commands;

/// <summary>
/// The node operations the RESP port is built on: CopyKey (RENAME, COPY, MOVE), FlushKeys and KeyCount
/// (FLUSHDB, FLUSHALL, DBSIZE over namespaced databases), GetExpire (GETEX), and Batch with reads (MULTI/EXEC, WATCH).
/// </summary>
public sealed class RespSupportCommandTests
{
    private const long Now = 1_700_000_000_000;
    private readonly NodeStore _store = new(new RamStorageEngine());
    private readonly CommandEvaluator _evaluator = new(1 << 20);
    private readonly ScratchBuffer _body = new();
    private ulong _sequence;

    private (StatusCode Status, byte[] Body) Run(Opcode opcode, byte[] request, long now = Now)
    {
        _body.Reset();
        var status = _evaluator.Evaluate(_store, opcode, request, ++_sequence, now, _body);
        return (status, _body.WrittenSpan.ToArray());
    }

    private static byte[] Key(string key) => Encoding.UTF8.GetBytes(key);

    private static byte[] InDatabase(int database, string key)
    {
        var bytes = new byte[DatabaseKeys.PrefixSize + Encoding.UTF8.GetByteCount(key)];
        DatabaseKeys.WritePrefix(bytes, database);
        Encoding.UTF8.GetBytes(key, bytes.AsSpan(DatabaseKeys.PrefixSize));
        return bytes;
    }

    private void Set(byte[] key, string value, long expiresAt = 0) => _store.Write(key, Key(value), expiresAt, ++_sequence);

    private string? Value(byte[] key, long now = Now) =>
        _store.TryRead(key, now, out var stored) ? Encoding.UTF8.GetString(stored.Value.Span) : null;

    private static byte[] Copy(CopyKeyOptions options, byte[] source, byte[] target)
    {
        var body = new byte[CopyKeyRequest.BodyLength(source.Length, target.Length)];
        CopyKeyRequest.WriteBody(body, options, source, target);
        return body;
    }

    [Fact]
    public void Rename_moves_value_and_expiry_and_refuses_a_taken_name_without_replace()
    {
        Set(Key("a"), "1", Now + 5000);
        Set(Key("b"), "2");
        Assert.Equal(StatusCode.ConditionFailed, Run(Opcode.CopyKey, Copy(CopyKeyOptions.DeleteSource, Key("a"), Key("b"))).Status);
        Assert.Equal("1", Value(Key("a")));
        Assert.Equal(StatusCode.Ok, Run(Opcode.CopyKey, Copy(CopyKeyOptions.DeleteSource | CopyKeyOptions.Replace, Key("a"), Key("b"))).Status);
        Assert.Null(Value(Key("a")));
        Assert.Equal("1", Value(Key("b")));
        Assert.True(_store.TryReadVersion(Key("b"), Now, out var version, out var expiresAt));
        Assert.Equal(_sequence, version);
        Assert.Equal(Now + 5000, expiresAt);
        Assert.Equal(StatusCode.NotFound, Run(Opcode.CopyKey, Copy(CopyKeyOptions.None, Key("gone"), Key("c"))).Status);
        // The same key: a no-op with Replace (RENAME k k), refused without (RENAMENX k k).
        Assert.Equal(StatusCode.Ok, Run(Opcode.CopyKey, Copy(CopyKeyOptions.DeleteSource | CopyKeyOptions.Replace, Key("b"), Key("b"))).Status);
        Assert.Equal("1", Value(Key("b")));
        Assert.Equal(StatusCode.ConditionFailed, Run(Opcode.CopyKey, Copy(CopyKeyOptions.DeleteSource, Key("b"), Key("b"))).Status);
    }

    [Fact]
    public void Databases_are_counted_in_constant_time_and_flushed_alone()
    {
        Set(Key("plain"), "0");
        Set(InDatabase(3, "x"), "3");
        Set(InDatabase(3, "y"), "3");
        Set(InDatabase(3, "y"), "overwritten, still one key");
        Set(InDatabase(9, "z"), "9");
        Assert.Equal(1, _store.KeyCount(0));
        Assert.Equal(2, _store.KeyCount(3));
        Assert.Equal(1, _store.KeyCount(9));
        Assert.Equal(4, _store.KeyCount(DatabaseKeys.All));

        Assert.Equal(StatusCode.Ok, Run(Opcode.FlushKeys, [3]).Status);
        Assert.Equal(0, _store.KeyCount(3));
        Assert.Equal("0", Value(Key("plain")));
        Assert.Equal("9", Value(InDatabase(9, "z")));

        Assert.Equal(StatusCode.Ok, Run(Opcode.FlushKeys, [0]).Status);
        Assert.Null(Value(Key("plain")));
        Assert.Equal(1, _store.KeyCount(9));

        Assert.Equal(StatusCode.Ok, Run(Opcode.FlushKeys, [DatabaseKeys.All]).Status);
        Assert.Equal(0, _store.KeyCount(DatabaseKeys.All));
        Assert.Equal(0, _store.KeyCount(9));
    }

    [Fact]
    public void Counts_of_namespaced_databases_are_rebuilt_when_a_store_opens()
    {
        var engine = new RamStorageEngine();
        var first = new NodeStore(engine);
        first.Write(InDatabase(2, "a"), Key("v"), 0, 1);
        first.Write(InDatabase(2, "b"), Key("v"), 0, 2);
        first.Write(Key("c"), Key("v"), 0, 3);
        var reopened = new NodeStore(engine);
        Assert.Equal(2, reopened.KeyCount(2));
        Assert.Equal(1, reopened.KeyCount(0));
    }

    [Fact]
    public void Get_expire_returns_the_value_and_sets_or_removes_the_expiry()
    {
        Set(Key("k"), "v");
        var body = new byte[ExpireRequest.BodyLength(1)];
        ExpireRequest.WriteBody(body, ExpiryMode.Relative, ExpiryCondition.Always, 10_000, Key("k"));
        var (status, reply) = Run(Opcode.GetExpire, body);
        Assert.Equal(StatusCode.Ok, status);
        Assert.True(VersionedValueReply.TryRead(reply, out _, out var value, out var present));
        Assert.True(present);
        Assert.Equal("v", Encoding.UTF8.GetString(value));
        Assert.True(_store.TryReadVersion(Key("k"), Now, out _, out var expiresAt));
        Assert.Equal(Now + 10_000, expiresAt);

        ExpireRequest.WriteBody(body, ExpiryMode.Persist, ExpiryCondition.Always, 0, Key("k"));
        Assert.Equal(StatusCode.Ok, Run(Opcode.GetExpire, body).Status);
        Assert.True(_store.TryReadVersion(Key("k"), Now, out _, out expiresAt));
        Assert.Equal(0, expiresAt);

        ExpireRequest.WriteBody(body, ExpiryMode.Absolute, ExpiryCondition.Always, Now - 1, Key("k"));
        Assert.Equal(StatusCode.Ok, Run(Opcode.GetExpire, body).Status);
        Assert.Null(Value(Key("k")));
        Assert.Equal(StatusCode.NotFound, Run(Opcode.GetExpire, body).Status);
    }

    [Fact]
    public void Expire_xx_lt_needs_an_expiry_and_an_earlier_time()
    {
        Set(Key("k"), "v");
        var body = new byte[ExpireRequest.BodyLength(1)];
        ExpireRequest.WriteBody(body, ExpiryMode.Relative, ExpiryCondition.HasExpiryEarlier, 1000, Key("k"));
        Assert.Equal(StatusCode.ConditionFailed, Run(Opcode.Expire, body).Status);
        Set(Key("k"), "v", Now + 5000);
        Assert.Equal(StatusCode.Ok, Run(Opcode.Expire, body).Status);
        // Now expiring at Now + 1000: a later time fails the condition.
        ExpireRequest.WriteBody(body, ExpiryMode.Relative, ExpiryCondition.HasExpiryEarlier, 5000, Key("k"));
        Assert.Equal(StatusCode.ConditionFailed, Run(Opcode.Expire, body).Status);
    }

    /// <summary>A Batch body: guards, then operations given as (opcode, body).</summary>
    private static byte[] BatchBody((byte[] Key, ulong Version)[] guards, params (Opcode Opcode, byte[] Body)[] operations)
    {
        var length = TransactionRequest.FixedSize + guards.Sum(g => TransactionRequest.GuardSize(g.Key.Length)) + operations.Sum(o => TransactionRequest.OperationSize(o.Body.Length));
        var bytes = new byte[length];
        var writer = new TransactionBodyWriter(bytes, guards.Length);
        foreach (var (key, version) in guards)
            writer.Guard(key, version);
        writer.BeginOperations(operations.Length);
        foreach (var (opcode, body) in operations)
            body.CopyTo(writer.Operation(opcode, body.Length));
        writer.Complete();
        return bytes;
    }

    private static byte[] KeyBody(string key)
    {
        var body = new byte[KeyRequest.BodyLength(Encoding.UTF8.GetByteCount(key))];
        KeyRequest.WriteBody(body, Key(key));
        return body;
    }

    private static byte[] SetBody(string key, string value)
    {
        var body = new byte[SetRequest.BodyLength(Encoding.UTF8.GetByteCount(key), Encoding.UTF8.GetByteCount(value))];
        SetRequest.WriteBody(body, Key(key), Key(value));
        return body;
    }

    private static byte[] IncrementBody(string key)
    {
        var body = new byte[IncrementRequest.BodyLength(Encoding.UTF8.GetByteCount(key))];
        IncrementRequest.WriteBody(body, 1, Key(key));
        return body;
    }

    [Fact]
    public void A_batch_answers_a_failing_operation_alone_and_applies_the_others_as_redis_exec_does()
    {
        Set(Key("word"), "abc");
        var (status, reply) = Run(Opcode.Batch, BatchBody([],
            (Opcode.Set, SetBody("a", "1")),
            (Opcode.Increment, IncrementBody("word")),
            (Opcode.Increment, IncrementBody("a")),
            (Opcode.Get, KeyBody("a"))));
        Assert.Equal(StatusCode.Ok, status);
        Assert.True(TransactionReply.TryRead(reply, out var entries));
        Assert.Equal(4u, entries.Count);
        Assert.True(entries.TryReadNext(out var first, out _));
        Assert.Equal(StatusCode.Ok, first);
        Assert.True(entries.TryReadNext(out var failed, out var message));
        Assert.Equal(StatusCode.InvalidValue, failed);
        Assert.Contains("not an integer", Encoding.UTF8.GetString(message));
        Assert.True(entries.TryReadNext(out _, out _));
        Assert.True(entries.TryReadNext(out var read, out var value));
        Assert.Equal(StatusCode.Ok, read);
        // The read sees the operations before it in the same batch.
        Assert.True(ValueReply.TryRead(value, out var text));
        Assert.Equal("2", Encoding.UTF8.GetString(text));
        Assert.Equal("2", Value(Key("a")));

        // A Transaction keeps its all-or-nothing rule.
        Assert.Equal(StatusCode.InvalidValue, Run(Opcode.Transaction, BatchBody([], (Opcode.Set, SetBody("b", "1")), (Opcode.Increment, IncrementBody("word")))).Status);
        Assert.Null(Value(Key("b")));
    }

    [Fact]
    public void A_batch_guard_is_a_watch_decided_at_apply_time()
    {
        Set(Key("w"), "1");
        Assert.True(_store.TryReadVersion(Key("w"), Now, out var watched, out _));
        Assert.Equal(StatusCode.Ok, Run(Opcode.Batch, BatchBody([(Key("w"), watched)], (Opcode.Set, SetBody("out", "a")))).Status);
        Set(Key("w"), "changed by another client");
        Assert.Equal(StatusCode.ConditionFailed, Run(Opcode.Batch, BatchBody([(Key("w"), watched)], (Opcode.Set, SetBody("out", "b")))).Status);
        Assert.Equal("a", Value(Key("out")));
        // A watched key that expires in between fails the guard too (its version is 0 once expired).
        Set(Key("e"), "v", Now + 10);
        Assert.True(_store.TryReadVersion(Key("e"), Now, out var live, out _));
        Assert.Equal(StatusCode.ConditionFailed, Run(Opcode.Batch, BatchBody([(Key("e"), live)], (Opcode.Exists, KeyBody("e"))), Now + 20).Status);
    }

    [Fact]
    public void Validator_knows_the_new_bodies()
    {
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.KeyCount, [KeyCountRequest.PerDatabase], 64));
        Assert.Equal(StatusCode.ProtocolError, BodyValidator.Validate(Opcode.FlushKeys, [KeyCountRequest.PerDatabase], 64));
        Assert.Equal(StatusCode.ProtocolError, BodyValidator.Validate(Opcode.KeyCount, [16], 64));
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.CopyKey, Copy(CopyKeyOptions.Replace, Key("a"), Key("b")), 64));
        Assert.Equal(StatusCode.KeyTooLarge, BodyValidator.Validate(Opcode.CopyKey, Copy(CopyKeyOptions.None, Key("a"), new byte[65]), 64));
        Assert.Equal(StatusCode.ProtocolError, BodyValidator.Validate(Opcode.CopyKey, [0x04, 0, 0, 0, 0, 0, 0, 0, 0], 64));
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.Batch, BatchBody([], (Opcode.Get, KeyBody("a")), (Opcode.CopyKey, Copy(CopyKeyOptions.None, Key("a"), Key("b")))), 64));
        Assert.Equal(StatusCode.ProtocolError, BodyValidator.Validate(Opcode.Batch, BatchBody([], (Opcode.FlushKeys, [0])), 64));
        Assert.True(Opcode.Batch.IsEvaluatedWrite());
        Assert.True(Opcode.KeyCount.IsRead());
        Assert.Equal(3, DatabaseKeys.DatabaseOf(InDatabase(3, "k")));
        Assert.Equal(0, DatabaseKeys.DatabaseOf(Key("plain")));
    }
}
