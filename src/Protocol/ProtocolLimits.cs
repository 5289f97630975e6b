namespace KvnDb.Protocol;

/// <summary>Protocol constants and the default size limits.</summary>
public static class ProtocolLimits
{
    /// <summary>Version sent in hello. A router refuses any other at hello (VersionMismatch), before any other frame.</summary>
    public const ushort Version = 3;

    public const int HeaderSize = 16;

    /// <summary>Default largest body accepted: 64 MiB.</summary>
    public const int DefaultMaxFrameSize = 64 * 1024 * 1024;

    /// <summary>Default largest key accepted: 64 KiB.</summary>
    public const int DefaultMaxKeySize = 64 * 1024;

    /// <summary>Default port, the original kvndb port.</summary>
    public const int DefaultPort = 54565;
}
