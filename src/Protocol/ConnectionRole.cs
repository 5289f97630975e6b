namespace KvnDb.Protocol;

/// <summary>What a connection is, declared in its hello frame.</summary>
public enum ConnectionRole : byte
{
    Client = 1,
    Node = 2,
}
