using KvnDb.Router.Membership;

namespace KvnDb.Router.Groups;

/// <summary>
/// The router's one metadata document (<see cref="RouterMetadata"/>), shared by every replica group: each
/// group reads and replaces only its own part (<see cref="GroupMetadataView"/>), under one lock, so two groups
/// changing their in-sync sets at once never lose each other's change. Persisted only through the
/// <see cref="IMetadataStore"/> (a file, or a router group's Raft log), which sees one opaque document.
/// </summary>
internal sealed class SharedMetadata : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IMetadataStore _store;
    private RouterMetadata _document;

    public SharedMetadata(IMetadataStore store)
    {
        _store = store;
        _document = store.Load();
    }

    public string Location => _store.Location;

    public RouterMetadata Document => Volatile.Read(ref _document);

    /// <summary>
    /// Puts a first start's slot map into the document without waiting on the store (the cluster is being built, and a
    /// group's store is Raft): the first save, the adoption or admission that comes before any write is acknowledged,
    /// makes it durable, and until then a restart computes the same map from the same <c>--groups</c>.
    /// </summary>
    public void Seed(Func<RouterMetadata, RouterMetadata> change) => Volatile.Write(ref _document, change(_document));

    /// <summary>Durably replaces the document with <paramref name="change"/> of the current one; returns once it survives a crash.</summary>
    public async ValueTask<RouterMetadata> ChangeAsync(Func<RouterMetadata, RouterMetadata> change)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var next = change(Volatile.Read(ref _document));
            await _store.SaveAsync(next).ConfigureAwait(false);
            Volatile.Write(ref _document, next);
            return next;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
