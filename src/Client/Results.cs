namespace KvnDb.Client;

/// <summary>
/// The outcome of a conditional set: whether it wrote, the key's version now (the new one when it wrote,
/// the current one when the condition failed; 0 when the key is absent), and the previous value when
/// it was asked for (null when the key was absent).
/// </summary>
public sealed record SetResult(bool Written, ulong Version, byte[]? OldValue);

/// <summary>A value with the key's version (the sequence of its last write) and its expiry, if any.</summary>
public sealed record VersionedValue(byte[] Value, ulong Version, DateTimeOffset? ExpiresAt);

/// <summary>A key's expiry: whether the key exists, and when it expires (both null when it does not expire).</summary>
public sealed record KeyExpiry(bool Exists, ulong Version, DateTimeOffset? ExpiresAt, TimeSpan? Remaining);

/// <summary>
/// The outcome of a transaction: committed (every operation applied, all under one sequence) or not
/// (a guard failed: nothing changed anywhere, <see cref="FailedGuard"/> says which).
/// </summary>
public sealed record TransactionResult(bool Committed, int FailedGuard, IReadOnlyList<OperationResult> Results);

/// <summary>
/// One operation's outcome inside a committed transaction: its status (Ok, NotFound, ConditionFailed),
/// the key's version after it, and what it returned (a number: a counter's value, a length, an expiry;
/// a value: the old value, a deleted value, a float counter's text).
/// </summary>
public sealed record OperationResult(KvnDb.Protocol.StatusCode Status, ulong Version, long Number, byte[]? Value);
