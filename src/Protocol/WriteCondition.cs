namespace KvnDb.Protocol;

/// <summary>When a <see cref="Opcode.SetWhen"/> writes. Values are part of the wire format.</summary>
public enum WriteCondition : byte
{
    Always = 0,
    /// <summary>Only if the key is absent (Redis NX).</summary>
    NotExists = 1,
    /// <summary>Only if the key is present (Redis XX).</summary>
    Exists = 2,
    /// <summary>Only if the key's version equals the given one (compare-and-set; version 0 means absent).</summary>
    VersionEquals = 3,
}
