namespace KvnDb.Protocol;

/// <summary>Options of a <see cref="Opcode.SetWhen"/> (a bit set). Values are part of the wire format.</summary>
[Flags]
public enum SetOptions : byte
{
    None = 0,
    /// <summary>The reply carries the value the key had before (Redis SET ... GET).</summary>
    ReturnOld = 0x01,
    /// <summary>Keep the key's expiry (Redis KEEPTTL); without it, and without an expiry, a set clears it.</summary>
    KeepTtl = 0x02,
    /// <summary>The expiry field is milliseconds after the write's (router) time.</summary>
    ExpiryRelative = 0x04,
    /// <summary>The expiry field is an absolute Unix time in milliseconds.</summary>
    ExpiryAbsolute = 0x08,
}
