using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>
/// A batch of writes for <see cref="KvnDbClient.TransactionAsync(TransactionBuilder, KvnDb.Protocol.WriteConcern?, CancellationToken)"/>: applied atomically under one
/// sequence on every node, all or nothing, after its guards (Redis WATCH: a key's version must still be
/// what the caller read, 0 meaning absent). Fluent: each method returns the builder. Not thread-safe.
/// </summary>
public sealed class TransactionBuilder
{
    private readonly List<(byte[] Key, ulong Version)> _guards = [];
    private readonly List<(Opcode Opcode, byte[] Body)> _operations = [];

    public int GuardCount => _guards.Count;

    public int OperationCount => _operations.Count;

    internal IReadOnlyList<(Opcode Opcode, byte[] Body)> Operations => _operations;

    // ---- guards ----

    /// <summary>The transaction applies only if the key's version is still <paramref name="version"/> (0: absent).</summary>
    public TransactionBuilder RequireVersion(ReadOnlyMemory<byte> key, ulong version)
    {
        _guards.Add((key.ToArray(), version));
        return this;
    }

    public TransactionBuilder RequireVersion(string key, ulong version) => RequireVersion(Utf8(key), version);

    public TransactionBuilder RequireAbsent(ReadOnlyMemory<byte> key) => RequireVersion(key, 0);

    public TransactionBuilder RequireAbsent(string key) => RequireVersion(Utf8(key), 0);

    // ---- operations ----

    public TransactionBuilder Set(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value) =>
        Add(Opcode.Set, SetRequest.BodyLength(key.Length, value.Length), b => SetRequest.WriteBody(b, key.Span, value.Span));

    public TransactionBuilder Set(string key, string value) => Set(Utf8(key), Utf8(value));

    /// <summary>A conditional set inside the transaction (its condition failing is an outcome, not an abort).</summary>
    public TransactionBuilder Set(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, When when, TimeSpan? expiry = null, bool returnOldValue = false)
    {
        var header = KvnDbClient.SetWhenHeaderOf(when, expiry, returnOldValue, keepTtl: false);
        return Add(Opcode.SetWhen, SetWhenRequest.BodyLength(key.Length, value.Length), b => SetWhenRequest.WriteBody(b, header, key.Span, value.Span));
    }

    public TransactionBuilder Set(string key, string value, When when, TimeSpan? expiry = null, bool returnOldValue = false) =>
        Set(Utf8(key), Utf8(value), when, expiry, returnOldValue);

    public TransactionBuilder Delete(ReadOnlyMemory<byte> key) =>
        Add(Opcode.Delete, KeyRequest.BodyLength(key.Length), b => KeyRequest.WriteBody(b, key.Span));

    public TransactionBuilder Delete(string key) => Delete(Utf8(key));

    public TransactionBuilder GetDelete(ReadOnlyMemory<byte> key) =>
        Add(Opcode.GetDelete, KeyRequest.BodyLength(key.Length), b => KeyRequest.WriteBody(b, key.Span));

    public TransactionBuilder GetDelete(string key) => GetDelete(Utf8(key));

    public TransactionBuilder Increment(ReadOnlyMemory<byte> key, long by = 1) =>
        Add(Opcode.Increment, IncrementRequest.BodyLength(key.Length), b => IncrementRequest.WriteBody(b, by, key.Span));

    public TransactionBuilder Increment(string key, long by = 1) => Increment(Utf8(key), by);

    public TransactionBuilder IncrementFloat(ReadOnlyMemory<byte> key, double by)
    {
        KvnDbClient.CheckFinite(by);
        return Add(Opcode.IncrementFloat, FloatIncrementRequest.BodyLength(key.Length), b => FloatIncrementRequest.WriteBody(b, by, key.Span));
    }

    public TransactionBuilder IncrementFloat(string key, double by) => IncrementFloat(Utf8(key), by);

    public TransactionBuilder Append(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value) =>
        Add(Opcode.Append, SetRequest.BodyLength(key.Length, value.Length), b => SetRequest.WriteBody(b, key.Span, value.Span));

    public TransactionBuilder Append(string key, string value) => Append(Utf8(key), Utf8(value));

    public TransactionBuilder SetRange(ReadOnlyMemory<byte> key, long offset, ReadOnlyMemory<byte> value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return Add(Opcode.SetRange, SetRangeRequest.BodyLength(key.Length, value.Length), b => SetRangeRequest.WriteBody(b, (ulong)offset, key.Span, value.Span));
    }

    public TransactionBuilder Expire(ReadOnlyMemory<byte> key, TimeSpan ttl, ExpiryCondition condition = ExpiryCondition.Always) =>
        Add(Opcode.Expire, ExpireRequest.BodyLength(key.Length), b => ExpireRequest.WriteBody(b, ExpiryMode.Relative, condition, (long)ttl.TotalMilliseconds, key.Span));

    public TransactionBuilder Expire(string key, TimeSpan ttl, ExpiryCondition condition = ExpiryCondition.Always) => Expire(Utf8(key), ttl, condition);

    public TransactionBuilder Persist(ReadOnlyMemory<byte> key) =>
        Add(Opcode.Expire, ExpireRequest.BodyLength(key.Length), b => ExpireRequest.WriteBody(b, ExpiryMode.Persist, ExpiryCondition.Always, 0, key.Span));

    public TransactionBuilder Persist(string key) => Persist(Utf8(key));

    /// <summary>The transaction body (<see cref="TransactionRequest"/>).</summary>
    internal byte[] Build()
    {
        if (_operations.Count == 0)
            throw new InvalidOperationException("a transaction needs at least one operation");
        var length = (long)TransactionRequest.FixedSize;
        foreach (var (key, _) in _guards)
            length += TransactionRequest.GuardSize(key.Length);
        foreach (var (_, body) in _operations)
            length += TransactionRequest.OperationSize(body.Length);
        if (length > int.MaxValue)
            throw new KvnDbProtocolException($"transaction of {length} bytes is above any frame limit", StatusCode.FrameTooLarge);
        var bytes = new byte[length];
        var writer = new TransactionBodyWriter(bytes, _guards.Count);
        foreach (var (key, version) in _guards)
            writer.Guard(key, version);
        writer.BeginOperations(_operations.Count);
        foreach (var (opcode, body) in _operations)
            body.CopyTo(writer.Operation(opcode, body.Length));
        writer.Complete();
        return bytes;
    }

    private delegate int BodyWriter(Span<byte> destination);

    private TransactionBuilder Add(Opcode opcode, int length, BodyWriter write)
    {
        var body = new byte[length];
        write(body);
        _operations.Add((opcode, body));
        return this;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
