using KvnDb.Router.Membership;

namespace KvnDb.Router.Groups;

/// <summary>
/// The router's one metadata document (<see cref="RouterMetadata"/>), shared by every replica group: each
/// group reads and replaces only its own part (<see cref="GroupMetadataView"/>), under one lock, so two groups
/// changing their in-sync sets at once never lose each other's change. Persisted only through the
/// <see cref="MetadataStore"/>, which sees one opaque document.
/// </summary>
internal sealed class SharedMetadata
{
    private readonly Lock _lock = new();
    private readonly MetadataStore _store;
    private RouterMetadata _document;

    public SharedMetadata(MetadataStore store)
    {
        _store = store;
        _document = store.Load();
    }

    public string Location => _store.Location;

    public RouterMetadata Document => Volatile.Read(ref _document);

    /// <summary>Durably replaces the document with <paramref name="change"/> of the current one; returns once it survives a crash.</summary>
    public RouterMetadata Change(Func<RouterMetadata, RouterMetadata> change)
    {
        lock (_lock)
        {
            var next = change(_document);
            _store.Save(next);
            Volatile.Write(ref _document, next);
            return next;
        }
    }
}
