namespace KvnDb.Router.Membership;

/// <summary>
/// A node that left and is not back in sync: why, and when (<see cref="Environment.TickCount64"/>). The link is kept
/// for its last storage report (<see cref="NodeLink.Status"/>), which may arrive just after the reason it left.
/// </summary>
internal sealed record Departure(int Number, string Reason, long LeftAtMs, NodeLink Link);
