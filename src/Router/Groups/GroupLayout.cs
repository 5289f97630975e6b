using KvnDb.Protocol;
using KvnDb.Router.Membership;

namespace KvnDb.Router.Groups;

/// <summary>
/// The groups a router starts with and who owns which slot (docs/architecture.md, "Groups and slots"). The
/// slot map is durable in the metadata; at the first start with <c>--groups a,b,…</c> (no map stored yet and no
/// data in the group <c>default</c>), the slots are split evenly among the listed groups, in order, and the map
/// is saved before any node joins. After that the stored map rules: a group listed later that the map does not
/// name is added with no slots (slots reach it by migration). Without a map and without <c>--groups</c>, every
/// slot is <c>default</c>'s and nothing is written: a cluster of one group is the router before groups.
/// </summary>
internal static class GroupLayout
{
    public static SlotMap Load(SharedMetadata metadata, IReadOnlyList<string> configured)
    {
        var document = metadata.Document;
        if (document.Slots.Count > 0)
        {
            var stored = document.Slots.Select(r => r.Group).Distinct(StringComparer.Ordinal).ToList();
            var more = configured.Concat(document.Groups.Keys).Where(g => !stored.Contains(g, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal);
            return SlotMap.FromRanges(document.Slots, [.. stored, .. more]);
        }
        List<string> groups = configured.Count == 0 ? [HelloRequest.DefaultGroup] : [.. configured.Distinct(StringComparer.Ordinal)];
        if (groups is [HelloRequest.DefaultGroup])
            return SlotMap.Even(groups, 1);
        // A cluster that already holds data in "default" keeps it there: new groups start empty.
        var hasDefaultData = document.History != Guid.Empty;
        if (hasDefaultData && !groups.Contains(HelloRequest.DefaultGroup))
            groups = [HelloRequest.DefaultGroup, .. groups];
        if (hasDefaultData)
            groups = [HelloRequest.DefaultGroup, .. groups.Where(g => g != HelloRequest.DefaultGroup)];
        var map = SlotMap.Even(groups, hasDefaultData ? 1 : groups.Count);
        metadata.Seed(d => d with { Slots = map.ToRanges() });
        return map;
    }
}
