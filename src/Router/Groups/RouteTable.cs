namespace KvnDb.Router.Groups;

/// <summary>
/// How requests of a router with several groups are routed: the slot map, and while slots migrate, the map whose moving
/// slots belong to the migration's lane (<see cref="SlotMap.WithLane"/>) with the migration that owns the lane. Read once
/// per request and replaced whole (one volatile read on the path; nothing new for a router of one group).
/// </summary>
internal sealed record RouteTable(SlotMap Map, SlotMigration? Migration, int Lane)
{
    public static RouteTable Plain(SlotMap map) => new(map, null, -1);
}
