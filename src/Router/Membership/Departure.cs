using KvnDb.Protocol;

namespace KvnDb.Router.Membership;

/// <summary>A node that left and is not back in sync: why, when (<see cref="Environment.TickCount64"/>), and the last storage report it sent.</summary>
internal sealed record Departure(int Number, string Reason, long LeftAtMs, NodeStatusReport? LastStatus, long StatusHeardAtMs);
