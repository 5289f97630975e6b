namespace KvnDb.Router;

internal enum PendingKind : byte
{
    /// <summary>Sent to one serving node; retried on another if that node dies before answering.</summary>
    Read,
    /// <summary>Sent to every node; answered per write concern as acknowledgements arrive.</summary>
    Write,
    /// <summary>Sent to every node at one point of the write stream; answered when every node reported.</summary>
    Digest,
}
