namespace KvnDb.Router.Ha;

/// <summary>
/// The last committed leader announcement: in <see cref="Term"/>, the active router is at <see cref="Address"/> (host:port
/// for clients and nodes), its RESP port <see cref="RespPort"/> (0: none), where standbys send RESP connections.
/// </summary>
internal sealed record LeaderRecord(long Term, string Address, int RespPort);
