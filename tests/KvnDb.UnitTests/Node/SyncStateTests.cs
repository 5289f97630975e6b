using System.Text;
using KvnDb.Node;
using KvnDb.Node.Storage;

namespace KvnDb.UnitTests.Node;

/// <summary>
/// The rules of a full sync that never wipes first (CONTRACT item 3), one by one, against the ram
/// engine. Versions: TrustedThrough = 100, LiveAfter = 200; live writes are above 200.
/// </summary>
public sealed class SyncStateTests
{
    private const ulong Trusted = 100;
    private const ulong LiveAfter = 200;

    private readonly RamStorageEngine _engine = new();
    private readonly SyncState _sync = new();

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
        _sync.ApplySnapshotRecord(_engine, K(key), Encoding.UTF8.GetBytes(value), version);

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
    public void A_trusted_record_meets_the_snapshot_newer_wins()
    {
        Store("older", "mine", 40);
        Store("same", "mine", 60);
        Store("newer", "mine", 90);
        _sync.Begin(Trusted, LiveAfter);
        Snapshot("older", "donor", 80);
        Snapshot("same", "donor", 60);
        Snapshot("newer", "donor", 70);
        Assert.Equal(("donor", 80UL), Read("older"));
        Assert.Equal(("mine", 60UL), Read("same"));
        Assert.Equal(("mine", 90UL), Read("newer"));
        Assert.Equal(1, _sync.RecordsApplied);
        Assert.Equal(2, _sync.RecordsSkipped);
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
    public void A_divergent_record_above_live_after_that_no_live_write_made_is_replaced_too()
    {
        // A node from a history that ran further than the current one holds versions above LiveAfter.
        Store("far", "other history", 5_000);
        _sync.Begin(Trusted, LiveAfter);
        Snapshot("far", "donor", 150);
        Assert.Equal(("donor", 150UL), Read("far"));
    }

    [Fact]
    public void A_newer_live_write_beats_the_snapshot_and_an_older_one_does_not()
    {
        Store("k1", "mine", 10);
        _sync.Begin(Trusted, LiveAfter);
        LiveSet("k1", "live", 210);
        LiveSet("k2", "live", 220);
        Snapshot("k1", "donor", 205); // the donor's copy is older than the live write
        Snapshot("k2", "donor", 230); // the donor is ahead of this link: its record is newer
        Assert.Equal(("live", 210UL), Read("k1"));
        Assert.Equal(("donor", 230UL), Read("k2"));
    }

    [Fact]
    public void A_live_delete_leaves_a_tombstone_that_an_older_record_cannot_pass()
    {
        Store("gone", "mine", 10);
        Store("back", "mine", 10);
        _sync.Begin(Trusted, LiveAfter);
        LiveDelete("gone", 210);
        LiveDelete("back", 211);
        Snapshot("gone", "donor", 150);
        Snapshot("back", "donor", 212); // set again after the delete, on the donor
        Assert.Equal((null, 0UL), Read("gone"));
        Assert.Equal(("donor", 212UL), Read("back"));
    }

    [Fact]
    public void A_live_set_after_a_live_delete_is_judged_by_its_own_version()
    {
        _sync.Begin(Trusted, LiveAfter);
        LiveDelete("k", 210);
        LiveSet("k", "live", 215);
        Snapshot("k", "donor", 212);
        Assert.Equal(("live", 215UL), Read("k"));
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

        var dropped = _sync.End(_engine, 205);

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
        _sync.End(_engine, 212);
        Assert.Equal(212UL, _engine.LastSequence);
        Assert.Equal(("donor", 150UL), Read("far"));
    }

    [Fact]
    public void The_end_never_sets_the_last_sequence_below_a_live_write_it_applied()
    {
        _sync.Begin(Trusted, LiveAfter);
        LiveSet("k", "live", 230);
        _sync.End(_engine, 220);
        Assert.Equal(230UL, _engine.LastSequence);
    }

    [Fact]
    public void A_new_begin_on_the_same_link_restarts_the_snapshot_but_keeps_the_live_writes()
    {
        Store("only first donor", "mine", 50);
        _sync.Begin(Trusted, LiveAfter);
        LiveSet("live", "live", 210);
        Snapshot("only first donor", "donor 1", 60);
        _sync.Begin(Trusted, LiveAfter); // the first donor died; another one starts over
        Snapshot("live", "donor 2", 205);
        _sync.End(_engine, 215);
        Assert.Equal(("live", 210UL), Read("live"));
        // Carried only by the snapshot that was abandoned: the complete one lacked it.
        Assert.Equal((null, 0UL), Read("only first donor"));
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
        Assert.Equal(0, _sync.End(_engine, 300)); // nothing to end
        Assert.Equal(2, _engine.Count);
    }

    [Fact]
    public void Live_writes_outside_a_sync_are_not_tracked()
    {
        _sync.OnLiveSet(K("x"), 5);
        _sync.OnLiveDelete(K("y"), 6);
        Store("x", "v", 5);
        _sync.Begin(Trusted, LiveAfter);
        _sync.End(_engine, 210);
        Assert.Equal(0, _engine.Count); // x was written before the sync and the snapshot lacked it
    }
}
