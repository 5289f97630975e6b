using KvnDb.Router.Membership;

namespace KvnDb.Router.Groups;

/// <summary>
/// One group's part of the shared metadata, in the shape its membership has always kept (a
/// <see cref="RouterMetadata"/> with the group's history and in-sync set, and every node's number): the group
/// <c>default</c>'s lives at the top of the document (so a file written before groups is that group's), any
/// other group's under <see cref="RouterMetadata.Groups"/>.
/// </summary>
internal sealed class GroupMetadataView(SharedMetadata shared, string group)
{
    public string Group { get; } = group;

    public string Location => shared.Location;

    private bool IsDefault => Group == KvnDb.Protocol.HelloRequest.DefaultGroup;

    public RouterMetadata Load() => Part(shared.Document);

    /// <summary>Durably replaces this group's part (and the node numbers, which every group shares).</summary>
    public async ValueTask SaveAsync(RouterMetadata part)
    {
        await shared.ChangeAsync(document =>
        {
            if (IsDefault)
                return part with { Groups = document.Groups, Slots = document.Slots, Format = document.Format, Migration = document.Migration };
            var groups = new Dictionary<string, RouterMetadata>(document.Groups, StringComparer.Ordinal)
            {
                [Group] = part with { Groups = new Dictionary<string, RouterMetadata>(), Slots = [], NodeNumbers = new Dictionary<Guid, int>(), Migration = null },
            };
            return document with { Groups = groups, NodeNumbers = part.NodeNumbers };
        }).ConfigureAwait(false);
    }

    private RouterMetadata Part(RouterMetadata document)
    {
        if (IsDefault)
            return document with { Groups = new Dictionary<string, RouterMetadata>(), Slots = [], Migration = null };
        var part = document.Groups.TryGetValue(Group, out var stored) ? stored : new RouterMetadata();
        return part with { NodeNumbers = document.NodeNumbers };
    }
}
