using System.Text;
using KvnDb.Node;
using KvnDb.Node.Storage;

namespace KvnDb.UnitTests.Node;

/// <summary>
/// The rules of a full sync that never wipes first (CONTRACT item 3), one by one, against the ram
/// engine. Versions: TrustedThrough = 100, LiveAfter = 200; live writes are above 200. The router
/// delivers every chunk at the point of the write stream where the donor read it.
/// </summary>
public sealed class SyncStateTests
{
    private const ulong Trusted = 100;
    private const ulong LiveAfter = 200;

    private readonly RamStorageEngine _engine;
    private readonly NodeStore _store;
    private readonly SyncState _sync = new();

    public SyncStateTests()
    {
        _engine = new RamStorageEngine();
        _store = new NodeStore(_engine);
    }

    private static byte[] K(string key) => Encoding.UTF8.GetBytes(key);

    private (string? Value, ulong Version) Read(string key)
    {
        if (!_engine.TryGet(K(key), out var stored))
            return (null, 0);
        using (stored)
            return (Encoding.UTF8.GetString(stored.Value.Span), stored.Sequence);
    }

    private void Store(string key, string value, ulong version) => _engine.Set(K(key), Encoding.UTF8.GetBytes(value), version);

    private void Snapshot(string key, string value, ulong version) =>
        _sync.ApplySnapshotRecord(_store, K(key), Encoding.UTF8.GetBytes(value), version, 0);

    private void LiveSet(string key, string value, ulong version)
    {
        _engine.Set(K(key), Encoding.UTF8.GetBytes(value), version);
        _sync.OnLiveSet(K(key), version);
    }

    private void LiveDelete(string key, ulong version)
    {
        _engine.Delete(K(key), version);
        _sync.OnLiveDelete(K(key), version);
    }

    [Fact]
    public void Beginning_a_full_sync_keeps_the_data()
    {
        Store("a", "old", 50);
        Store("b", "old", 150);
        _sync.Begin(Trusted, LiveAfter);
        Assert.True(_sync.IsSyncing);
        Assert.Equal(2, _engine.Count);
        Assert.Equal(("old", 50UL), Read("a"));
    }

    [Fact]
    public void A_record_replaces_what_the_node_holds_unless_it_is_that_very_trusted_version()
    {
        // A chunk is the key as of the point of the write stream where the joiner applies it: it wins.
        Store("older", "mine", 40);
        Store("same", "mine", 60);
        Store("newer", "mine", 90);
        _sync.Begin(Trusted, LiveAfter);
        Snapshot("older", "donor", 80);
        Snapshot("same", "donor", 60);
        Snapshot("newer", "donor", 70);
        Snapshot("absent", "donor", 75);
        Assert.Equal(("donor", 80UL), Read("older"));
        Assert.Equal(("mine", 60UL), Read("same"));
        Assert.Equal(("donor", 70UL), Read("newer"));
        Assert.Equal(1, _sync.RecordsApplied);
        Assert.Equal(2, _sync.RecordsReplaced);
        Assert.Equal(1, _sync.RecordsSkipped);
    }

    [Fact]
    public void A_record_above_trusted_through_is_replaced_whatever_its_version()
    {
        Store("divergent", "other history", 180); // in (TrustedThrough, LiveAfter]
        Store("boundary", "other history", Trusted + 1);
        _sync.Begin(Trusted, LiveAfter);
        Snapshot("divergent", "donor", 20);
        Snapshot("boundary", "donor", Trusted + 1);
        Assert.Equal(("donor", 20UL), Read("divergent"));
        Assert.Equal(("donor", Trusted + 1), Read("boundary"));
        Assert.Equal(2, _sync.RecordsReplaced);
    }

    [Fact]
    public void A_record_replaces_even_a_live_write_of_the_sync()
    {
        // The joiner evaluated a conditional write against a leftover (as absent); the donor found the key and
        // did not write. The chunk, applied where the donor read it, says what the key really is.
        Store("k", "mine", 10);
        _sync.Begin(Trusted, LiveAfter);
        LiveSet("k", "joiner's guess", 210);
        Snapshot("k", "donor", 205);
        Assert.Equal(("donor", 205UL), Read("k"));
    }

    [Fact]
    public void Until_a_chunk_or_a_live_write_vouches_for_it_a_key_is_a_leftover()
    {
        Store("old", "mine", 10);
        Store("carried", "mine", 10);
        Assert.False(_sync.IsLeftover(K("old"))); // no sync: nothing is a leftover
        _sync.Begin(Trusted, LiveAfter);
        Assert.True(_sync.IsLeftover(K("old")));
        Snapshot("carried", "donor", 20);
        LiveSet("written", "live", 210);
        Assert.False(_sync.IsLeftover(K("carried")));
        Assert.False(_sync.IsLeftover(K("written")));
        Assert.True(_sync.IsLeftover(K("old")));
    }

    [Fact]
    public void The_end_drops_what_the_snapshot_lacked_and_no_live_write_touched()
    {
        Store("carried", "mine", 50);
        Store("deleted on the current history", "mine", 50);
        Store("divergent only", "other history", 150);
        Store("rewritten live", "mine", 50);
        _sync.Begin(Trusted, LiveAfter);
        LiveSet("rewritten live", "live", 201);
        LiveSet("new live", "live", 202);
        LiveDelete("deleted live", 203);
        Snapshot("carried", "donor", 50);

        var dropped = _sync.End(_store, 205);

        Assert.Equal(2, dropped);
        Assert.False(_sync.IsSyncing);
        Assert.Equal(("mine", 50UL), Read("carried"));
        Assert.Equal(("live", 201UL), Read("rewritten live"));
        Assert.Equal(("live", 202UL), Read("new live"));
        Assert.Equal((null, 0UL), Read("deleted on the current history"));
        Assert.Equal((null, 0UL), Read("divergent only"));
        Assert.Equal(3, _engine.Count);
    }

    [Fact]
    public void The_end_sets_the_last_sequence_exactly_even_below_a_divergent_history()
    {
        Store("far", "other history", 5_000);
        _sync.Begin(Trusted, LiveAfter);
        LiveSet("k", "live", 210);
        Snapshot("far", "donor", 150);
        Assert.Equal(5_000UL, _engine.LastSequence);
        _sync.End(_store, 212);
        Assert.Equal(212UL, _engine.LastSequence);
        Assert.Equal(("donor", 150UL), Read("far"));
    }

    [Fact]
    public void The_end_never_sets_the_last_sequence_below_a_live_write_it_applied()
    {
        _sync.Begin(Trusted, LiveAfter);
        LiveSet("k", "live", 230);
        _sync.End(_store, 220);
        Assert.Equal(230UL, _engine.LastSequence);
    }

    [Fact]
    public void A_new_begin_on_the_same_link_keeps_what_the_live_writes_and_the_first_donor_established()
    {
        Store("only first donor", "mine", 50);
        Store("leftover", "mine", 50);
        _sync.Begin(Trusted, LiveAfter);
        LiveSet("live", "live", 210);
        Snapshot("only first donor", "donor 1", 60);
        _sync.Begin(Trusted, LiveAfter); // the first donor died; another one starts over
        _sync.End(_store, 215);
        Assert.Equal(("live", 210UL), Read("live"));
        // Exact as of the first donor's chunk and kept exact by the live writes since: no reason to drop it.
        Assert.Equal(("donor 1", 60UL), Read("only first donor"));
        Assert.Equal((null, 0UL), Read("leftover"));
    }

    [Fact]
    public void An_abandoned_sync_keeps_the_data_and_forgets_its_sets()
    {
        Store("a", "mine", 50);
        _sync.Begin(Trusted, LiveAfter);
        LiveSet("b", "live", 210);
        _sync.Abandon();
        Assert.False(_sync.IsSyncing);
        Assert.Equal(2, _engine.Count);
        Assert.Equal(0, _sync.End(_store, 300)); // nothing to end
        Assert.Equal(2, _engine.Count);
    }

    [Fact]
    public void Live_writes_outside_a_sync_are_not_tracked()
    {
        _sync.OnLiveSet(K("x"), 5);
        _sync.OnLiveDelete(K("y"), 6);
        Store("x", "v", 5);
        _sync.Begin(Trusted, LiveAfter);
        _sync.End(_store, 210);
        Assert.Equal(0, _engine.Count); // x was written before the sync and the snapshot lacked it
    }
}
