using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>
/// Writes evaluated by the nodes at apply time (conditional sets, counters, transactions, expiry) and
/// reads of versions and expiries. Each answers with the outcome a node computed, the same on every
/// node. They need an acknowledged write concern: <see cref="WriteConcern.None"/> (where the router would
/// answer before any node evaluated the write) is raised to <see cref="WriteConcern.One"/>.
/// </summary>
public sealed partial class KvnDbClient
{
    /// <summary>
    /// Sets the key when <paramref name="when"/> holds, with an expiry (from the router's clock) or none
    /// (a set clears any expiry unless <paramref name="keepTtl"/>). Atomic: every node decides alike.
    /// </summary>
    public async ValueTask<SetResult> SetAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, When when, TimeSpan? expiry = null,
        bool returnOldValue = false, bool keepTtl = false, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default)
    {
        var header = SetWhenHeaderOf(when, expiry, returnOldValue, keepTtl);
        var reply = await RequestAsync(Opcode.SetWhen, OutcomeFlags(writeConcern), new SetWhenBody(header, key, value), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        if (!VersionedValueReply.TryRead(reply.Body, out var version, out var old, out var present))
            throw Malformed(Opcode.SetWhen);
        return new SetResult(reply.Status == StatusCode.Ok, version, present ? old.ToArray() : null);
    }

    public ValueTask<SetResult> SetAsync(string key, string value, When when, TimeSpan? expiry = null,
        bool returnOldValue = false, bool keepTtl = false, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        SetAsync(Utf8(key), Utf8(value), when, expiry, returnOldValue, keepTtl, writeConcern, cancellationToken);

    /// <summary>Sets the key only if its version is still <paramref name="expectedVersion"/> (0: only if absent).</summary>
    public ValueTask<SetResult> CompareAndSetAsync(ReadOnlyMemory<byte> key, ulong expectedVersion, ReadOnlyMemory<byte> value, TimeSpan? expiry = null,
        WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        SetAsync(key, value, When.Version(expectedVersion), expiry, writeConcern: writeConcern, cancellationToken: cancellationToken);

    public ValueTask<SetResult> CompareAndSetAsync(string key, ulong expectedVersion, string value, TimeSpan? expiry = null,
        WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        CompareAndSetAsync(Utf8(key), expectedVersion, Utf8(value), expiry, writeConcern, cancellationToken);

    /// <summary>The value with the key's version and expiry, or null when it does not exist (or has expired).</summary>
    public async ValueTask<VersionedValue?> GetWithVersionAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(Opcode.GetVersioned, FrameFlags.None, new BytesKeyBody(key), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        if (reply.Status == StatusCode.NotFound)
            return null;
        if (!VersionedGetReply.TryRead(reply.Body, out var version, out var expiresAt, out var value))
            throw Malformed(Opcode.GetVersioned);
        return new VersionedValue(value.ToArray(), version, TimeOf(expiresAt));
    }

    public ValueTask<VersionedValue?> GetWithVersionAsync(string key, CancellationToken cancellationToken = default) =>
        GetWithVersionAsync(Utf8(key), cancellationToken);

    /// <summary>Deletes the key and returns the value it had, or null when it did not exist.</summary>
    public async ValueTask<byte[]?> GetDeleteAsync(ReadOnlyMemory<byte> key, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(Opcode.GetDelete, OutcomeFlags(writeConcern), new BytesKeyBody(key), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        if (reply.Status == StatusCode.NotFound)
            return null;
        if (!VersionedValueReply.TryRead(reply.Body, out _, out var value, out _))
            throw Malformed(Opcode.GetDelete);
        return value.ToArray();
    }

    public async ValueTask<string?> GetDeleteAsync(string key, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        await GetDeleteAsync(Utf8(key), writeConcern, cancellationToken).ConfigureAwait(false) is { } value ? Encoding.UTF8.GetString(value) : null;

    /// <summary>
    /// Adds <paramref name="by"/> to the key's decimal integer value (a missing key counts as 0) and returns
    /// the result; a value that is not an integer, or an overflow, fails with status InvalidValue.
    /// </summary>
    public async ValueTask<long> IncrementAsync(ReadOnlyMemory<byte> key, long by = 1, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(Opcode.Increment, OutcomeFlags(writeConcern), new IncrementBody(by, key), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        return VersionedNumberReply.TryRead(reply.Body, out _, out var value) ? value : throw Malformed(Opcode.Increment);
    }

    public ValueTask<long> IncrementAsync(string key, long by = 1, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        IncrementAsync(Utf8(key), by, writeConcern, cancellationToken);

    /// <summary>Adds <paramref name="by"/> to the key's decimal number value (Redis INCRBYFLOAT) and returns the result.</summary>
    public async ValueTask<double> IncrementFloatAsync(ReadOnlyMemory<byte> key, double by, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default)
    {
        CheckFinite(by);
        var reply = await RequestAsync(Opcode.IncrementFloat, OutcomeFlags(writeConcern), new FloatIncrementBody(by, key), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        if (!VersionedValueReply.TryRead(reply.Body, out _, out var text, out _)
            || !double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
            throw Malformed(Opcode.IncrementFloat);
        return value;
    }

    public ValueTask<double> IncrementFloatAsync(string key, double by, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        IncrementFloatAsync(Utf8(key), by, writeConcern, cancellationToken);

    /// <summary>Appends to the key's value (creating it) and returns the new length.</summary>
    public async ValueTask<long> AppendAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(Opcode.Append, OutcomeFlags(writeConcern), new BytesKeyValueBody(key, value), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        return VersionedNumberReply.TryRead(reply.Body, out _, out var length) ? length : throw Malformed(Opcode.Append);
    }

    public ValueTask<long> AppendAsync(string key, string value, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        AppendAsync(Utf8(key), Utf8(value), writeConcern, cancellationToken);

    /// <summary>Overwrites the value from <paramref name="offset"/> (zero-padding) and returns the new length.</summary>
    public async ValueTask<long> SetRangeAsync(ReadOnlyMemory<byte> key, long offset, ReadOnlyMemory<byte> value, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var reply = await RequestAsync(Opcode.SetRange, OutcomeFlags(writeConcern), new SetRangeBody((ulong)offset, key, value), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        return VersionedNumberReply.TryRead(reply.Body, out _, out var length) ? length : throw Malformed(Opcode.SetRange);
    }

    public ValueTask<long> SetRangeAsync(string key, long offset, string value, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        SetRangeAsync(Utf8(key), offset, Utf8(value), writeConcern, cancellationToken);

    // ---- expiry ----

    /// <summary>
    /// Makes the key expire <paramref name="ttl"/> after the router's time of the write (a time already past
    /// deletes it); false when the key does not exist or <paramref name="condition"/> did not hold.
    /// </summary>
    public ValueTask<bool> ExpireAsync(ReadOnlyMemory<byte> key, TimeSpan ttl, ExpiryCondition condition = ExpiryCondition.Always,
        WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        ExpiryAsync(key, ExpiryMode.Relative, condition, (long)ttl.TotalMilliseconds, writeConcern, cancellationToken);

    public ValueTask<bool> ExpireAsync(string key, TimeSpan ttl, ExpiryCondition condition = ExpiryCondition.Always,
        WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        ExpireAsync(Utf8(key), ttl, condition, writeConcern, cancellationToken);

    /// <summary>Makes the key expire at <paramref name="at"/> (the router's clock judges it).</summary>
    public ValueTask<bool> ExpireAtAsync(ReadOnlyMemory<byte> key, DateTimeOffset at, ExpiryCondition condition = ExpiryCondition.Always,
        WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        ExpiryAsync(key, ExpiryMode.Absolute, condition, at.ToUnixTimeMilliseconds(), writeConcern, cancellationToken);

    public ValueTask<bool> ExpireAtAsync(string key, DateTimeOffset at, ExpiryCondition condition = ExpiryCondition.Always,
        WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        ExpireAtAsync(Utf8(key), at, condition, writeConcern, cancellationToken);

    /// <summary>Removes the key's expiry; false when the key does not exist or had none.</summary>
    public ValueTask<bool> PersistAsync(ReadOnlyMemory<byte> key, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        ExpiryAsync(key, ExpiryMode.Persist, ExpiryCondition.Always, 0, writeConcern, cancellationToken);

    public ValueTask<bool> PersistAsync(string key, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        PersistAsync(Utf8(key), writeConcern, cancellationToken);

    /// <summary>Whether the key exists and when it expires (remaining time measured on the router's clock).</summary>
    public async ValueTask<KeyExpiry> TimeToLiveAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(Opcode.TimeToLive, FrameFlags.None, new BytesKeyBody(key), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        if (reply.Status == StatusCode.NotFound)
            return new KeyExpiry(false, 0, null, null);
        if (!TimeToLiveReply.TryRead(reply.Body, out var version, out var expiresAt, out var remaining))
            throw Malformed(Opcode.TimeToLive);
        return new KeyExpiry(true, version, TimeOf(expiresAt), expiresAt == 0 ? null : TimeSpan.FromMilliseconds(Math.Max(0, remaining)));
    }

    public ValueTask<KeyExpiry> TimeToLiveAsync(string key, CancellationToken cancellationToken = default) => TimeToLiveAsync(Utf8(key), cancellationToken);

    // ---- transactions ----

    /// <summary>
    /// Applies the builder's writes atomically under one sequence on every node, if every guard holds;
    /// otherwise nothing changes anywhere. An operation failing (a value that is no number) fails the whole
    /// transaction with that error and changes nothing.
    /// </summary>
    public async ValueTask<TransactionResult> TransactionAsync(TransactionBuilder transaction, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var reply = await RequestAsync(Opcode.Transaction, OutcomeFlags(writeConcern), new RawBody(transaction.Build()), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        if (reply.Status == StatusCode.ConditionFailed)
            return TransactionReply.TryReadFailedGuard(reply.Body, out var guard) ? new TransactionResult(false, guard, []) : throw Malformed(Opcode.Transaction);
        if (!TransactionReply.TryRead(reply.Body, out var entries) || entries.Count != transaction.OperationCount)
            throw Malformed(Opcode.Transaction);
        var results = new OperationResult[transaction.OperationCount];
        for (var i = 0; i < results.Length; i++)
        {
            if (!entries.TryReadNext(out var status, out var body))
                throw Malformed(Opcode.Transaction);
            results[i] = OperationResultOf(transaction.Operations[i].Opcode, status, body);
        }
        return new TransactionResult(true, -1, results);
    }

    /// <summary>Builds and runs a transaction: <c>client.TransactionAsync(tx => tx.RequireVersion("k", v).Set("k", "x"))</c>.</summary>
    public ValueTask<TransactionResult> TransactionAsync(Action<TransactionBuilder> build, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(build);
        var transaction = new TransactionBuilder();
        build(transaction);
        return TransactionAsync(transaction, writeConcern, cancellationToken);
    }

    // ---- plumbing ----

    private async ValueTask<bool> ExpiryAsync(ReadOnlyMemory<byte> key, ExpiryMode mode, ExpiryCondition condition, long time, WriteConcern? writeConcern, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync(Opcode.Expire, OutcomeFlags(writeConcern), new ExpireBody(mode, condition, time, key), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        return reply.Status == StatusCode.Ok;
    }

    internal static SetWhenHeader SetWhenHeaderOf(When when, TimeSpan? expiry, bool returnOldValue, bool keepTtl)
    {
        var options = returnOldValue ? SetOptions.ReturnOld : SetOptions.None;
        var milliseconds = 0L;
        if (expiry is { } ttl)
        {
            if (keepTtl)
                throw new ArgumentException("an expiry and keepTtl exclude each other", nameof(expiry));
            milliseconds = (long)Math.Ceiling(ttl.TotalMilliseconds);
            if (milliseconds <= 0)
                throw new ArgumentOutOfRangeException(nameof(expiry), ttl, "an expiry must be positive");
            options |= SetOptions.ExpiryRelative;
        }
        if (keepTtl)
            options |= SetOptions.KeepTtl;
        return new SetWhenHeader(when.Condition, options, when.ExpectedVersion, milliseconds);
    }

    internal static void CheckFinite(double value)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "an increment must be a finite number");
    }

    /// <summary>Outcome-bearing writes need a node's answer: concern None (perhaps the default for plain writes) becomes One.</summary>
    private FrameFlags OutcomeFlags(WriteConcern? writeConcern)
    {
        var concern = writeConcern ?? Options.WriteConcern;
        if (concern == WriteConcern.None)
            concern = WriteConcern.One; // the default may be None for plain writes; these need an outcome
        return FrameFlags.None.WithWriteConcern(concern);
    }

    private static OperationResult OperationResultOf(Opcode opcode, StatusCode status, ReadOnlySpan<byte> body)
    {
        switch (opcode)
        {
            case Opcode.SetWhen or Opcode.GetDelete or Opcode.IncrementFloat when VersionedValueReply.TryRead(body, out var version, out var value, out var present):
                return new OperationResult(status, version, 0, present ? value.ToArray() : null);
            case Opcode.Increment or Opcode.Append or Opcode.SetRange or Opcode.Expire when VersionedNumberReply.TryRead(body, out var version, out var number):
                return new OperationResult(status, version, number, null);
            default:
                return new OperationResult(status, 0, 0, null);
        }
    }

    private static DateTimeOffset? TimeOf(long unixMilliseconds) => unixMilliseconds == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

    private static KvnDbProtocolException Malformed(Opcode opcode) => new($"malformed {opcode} reply");

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
