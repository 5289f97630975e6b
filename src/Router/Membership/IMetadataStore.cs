namespace KvnDb.Router.Membership;

/// <summary>
/// Where the router's metadata (<see cref="RouterMetadata"/>: the in-sync set, node identities, the history) lives
/// durably. A single router keeps it in a file (<see cref="FileMetadataStore"/>); a router group in its Raft log
/// (<c>Ha/RaftMetadataStore</c>). The document is opaque to a store: it keeps whatever the record holds.
/// </summary>
internal interface IMetadataStore
{
    /// <summary>Where the metadata lives (for logs).</summary>
    string Location { get; }

    /// <summary>The last durable metadata (an empty document when there is none yet).</summary>
    RouterMetadata Load();

    /// <summary>
    /// Makes <paramref name="metadata"/> the durable metadata; returns once the change survives a crash (for a group: once
    /// it is committed in Raft). Throws when it cannot be made durable: the change must then not take effect.
    /// </summary>
    ValueTask SaveAsync(RouterMetadata metadata, CancellationToken cancellationToken = default);
}
