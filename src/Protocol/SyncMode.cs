namespace KvnDb.Protocol;

/// <summary>How a node joins, sent in <see cref="Opcode.SyncBegin"/>.</summary>
public enum SyncMode : byte
{
    /// <summary>The node already holds every write: it serves after SyncEnd.</summary>
    Current = 0,
    /// <summary>The writes it missed follow from the router's backlog, then SyncEnd.</summary>
    Replay = 1,
    /// <summary>The node receives a donor's snapshot while live writes flow (see <see cref="SyncBegin"/>), then SyncEnd.</summary>
    Full = 2,
}
