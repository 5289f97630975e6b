using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>
/// When a conditional set writes: <see cref="Always"/>, <see cref="NotExists"/> (Redis NX),
/// <see cref="Exists"/> (XX), or <see cref="Version"/> (compare-and-set on the key's version, 0 meaning
/// absent). Evaluated by every node at apply time, in sequence order: atomic, with no lock.
/// </summary>
public readonly record struct When(WriteCondition Condition, ulong ExpectedVersion)
{
    public static When Always => new(WriteCondition.Always, 0);

    public static When NotExists => new(WriteCondition.NotExists, 0);

    public static When Exists => new(WriteCondition.Exists, 0);

    /// <summary>Only if the key's version (the sequence of its last write) is <paramref name="version"/>; 0 means the key is absent.</summary>
    public static When Version(ulong version) => new(WriteCondition.VersionEquals, version);
}
