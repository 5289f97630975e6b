using KvnDb.Client;
namespace KvnDb.UnitTests.Testing;

/// <summary>The one reader of the router's info text that tests use.</summary>
public sealed class RouterInfoTests
{
    private const string Sample = """
        version: 0.1.0
        protocol: 1
        sequence: 1234
        history: 6f9619ff-8b86-d011-b42d-00c04fc964ff
        backlog: 1..1234 (5678 bytes)
        replayed_writes: 7
        full_syncs: 2
        clients: 3
        reads: 40
        writes: 50
        pending: 0
        nodes: 2
        nodes_serving: 1
        node1: address=127.0.0.1:5000 state=serving joined=replay replayed=7 outstanding=0 hello_sequence=1200 connected=2026-01-01T00:00:00.0000000+00:00
        node2: address=127.0.0.1:5001 state=syncing joined=full replayed=0 outstanding=3 hello_sequence=0 connected=2026-01-01T00:00:01.0000000+00:00

        """;

    [Fact]
    public void Counters_and_node_lines_are_read_by_name()
    {
        var info = RouterInfo.Parse(Sample);
        Assert.Equal(1234UL, info.Sequence);
        Assert.Equal(Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff"), info.History);
        Assert.Equal(1, info.NodesServing);
        Assert.Equal((3L, 40L, 50L, 2L, 7L, 0L), (info.Clients, info.Reads, info.Writes, info.FullSyncs, info.ReplayedWrites, info.Pending));
        Assert.Equal("1..1234 (5678 bytes)", info["backlog"]);
        Assert.Equal([1, 2], info.Nodes.Select(n => n.Id));
        Assert.Equal(("serving", 1200UL), (info.Nodes[0].State, info.Nodes[0].HelloSequence));
        Assert.Equal("2026-01-01T00:00:01.0000000+00:00", info.Nodes[1]["connected"]);
        Assert.False(info.Fields.ContainsKey("node1"));
    }

    [Fact]
    public void A_missing_field_names_what_is_there()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => RouterInfo.Parse("sequence: 1\n").Writes);
        Assert.Contains("sequence", error.Message);
    }

    [Fact]
    public void Empty_fields_are_kept_and_the_text_comes_back_as_the_router_wrote_it()
    {
        // As the router writes it: an empty value still has its "name: " line.
        const string text = "sequence: 5\nin_sync: \nin_sync_missing: \nunavailable: no in-sync database node is available (in-sync set: none)\n" +
            "nodes: 1\nnode3: address=[::1]:5000 state=serving in_sync=yes\n";
        var info = RouterInfo.Parse(text);
        Assert.Empty(info.InSync);
        Assert.Equal("", info["in_sync_missing"]);
        Assert.Equal("no in-sync database node is available (in-sync set: none)", info.Unavailable);
        Assert.Equal(("[::1]:5000", 1), (info.Nodes[0].Address, info.NodeCount));
        Assert.Equal(text, info.ToText());
    }
}
