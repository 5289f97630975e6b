namespace KvnDb.FaultTests.Linearizability;

/// <summary>What an operation did to its key's register.</summary>
public enum OpKind
{
    Get,
    Set,
    Delete,
}

/// <summary>How an operation ended, as its caller saw it.</summary>
public enum OpOutcome
{
    /// <summary>Done: a get found <see cref="Operation.Value"/>, a set was acknowledged, a delete removed an existing key.</summary>
    Ok,

    /// <summary>Done: a get or delete found no key.</summary>
    NotFound,

    /// <summary>Certainly not done (refused before it was sent). Left out of the check.</summary>
    Failed,

    /// <summary>
    /// Unknown (timeout, Unavailable, connection lost): a write may take effect at any moment after its
    /// invocation, or never; a read teaches nothing and is left out.
    /// </summary>
    Indeterminate,
}

/// <summary>
/// One operation of a history. Times are <see cref="System.Diagnostics.Stopwatch"/> timestamps taken
/// just before the call and just after its result; <see cref="Complete"/> is ignored for an
/// indeterminate write. Writers use a unique value per attempt so a read names the write it saw.
/// </summary>
public sealed record Operation(int Process, string Key, OpKind Kind, string? Value, long Invoke, long Complete, OpOutcome Outcome)
{
    public bool IsWrite => Kind != OpKind.Get;

    /// <summary>A write its caller saw succeed.</summary>
    public bool IsAcknowledgedWrite => IsWrite && Outcome is OpOutcome.Ok or OpOutcome.NotFound;

    public override string ToString() => Kind switch
    {
        OpKind.Get => $"p{Process} get {Key} -> {(Outcome == OpOutcome.Ok ? Value : Outcome.ToString().ToLowerInvariant())}",
        OpKind.Set => $"p{Process} set {Key}={Value} -> {Outcome.ToString().ToLowerInvariant()}",
        _ => $"p{Process} delete {Key} -> {Outcome.ToString().ToLowerInvariant()}",
    };
}
