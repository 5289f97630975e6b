using System.Globalization;
using System.Text;

namespace KvnDb.Router.Ha;

/// <summary>
/// The router group's lines of <c>info</c>: this router's role, the term, the leader, every router with its role
/// (<c>routers: endpoint=leader|standby[*],...</c>, <c>*</c> marks this one) and the election counters.
/// </summary>
internal static class GroupInfo
{
    public static void Append(StringBuilder text, GroupRole role)
    {
        var group = role.Group;
        Line(text, "router_role", role.IsActive ? "leader" : "standby");
        Line(text, "router_term", group.Term);
        Line(text, "router_leader", group.LeaderAddress ?? "");
        Line(text, "router_self", group.Advertised);
        Line(text, "routers", string.Join(",", group.Members.Select(m => $"{m.Endpoint}={(m.IsLeader ? "leader" : "standby")}{(m.IsSelf ? "*" : "")}")));
        Line(text, "router_elections_won", group.Elections);
        Line(text, "router_step_downs", group.StepDowns);
        Line(text, "router_leader_changes", group.LeaderChanges);
    }

    private static void Line<T>(StringBuilder text, string name, T value) =>
        text.Append(CultureInfo.InvariantCulture, $"{name}: {value}\n");
}
