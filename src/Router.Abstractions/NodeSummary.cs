namespace KvnDb.Router;

/// <summary>One connected node as a front door reports it (RESP's INFO replication section).</summary>
internal readonly record struct NodeSummary(int Id, string RemoteAddress, string State, int Outstanding, ulong HelloSequence, bool InSync, ulong AckedSequence);
