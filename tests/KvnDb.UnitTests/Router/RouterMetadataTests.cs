using KvnDb.Router.Membership;

namespace KvnDb.UnitTests.Router;

public sealed class RouterMetadataTests
{
    private static readonly Guid Current = Guid.NewGuid();
    private static readonly Guid Parent = Guid.NewGuid();
    private static readonly RouterMetadata Metadata = new() { History = Current, ParentHistory = Parent, ForkSequence = 100 };

    [Theory]
    [InlineData("current", 150UL, true)]
    [InlineData("current", 201UL, false)] // ahead of the router: never acknowledged, not a prefix
    [InlineData("parent", 100UL, true)]
    [InlineData("parent", 101UL, false)] // past the fork on the old branch
    [InlineData("other", 5UL, false)]
    [InlineData("none", 0UL, true)]
    [InlineData("none", 7UL, false)] // data on no history: interrupted sync
    public void Prefix_of_the_current_history(string history, ulong sequence, bool expected) =>
        Assert.Equal(expected, Metadata.IsPrefix(History(history), sequence, currentSequence: 200));

    [Theory]
    [InlineData("current", 150UL, 150UL)]
    [InlineData("current", 250UL, 200UL)]
    [InlineData("parent", 180UL, 100UL)]
    [InlineData("other", 180UL, 0UL)]
    [InlineData("none", 180UL, 0UL)]
    public void Trusted_through(string history, ulong sequence, ulong expected) =>
        Assert.Equal(expected, Metadata.TrustedThrough(History(history), sequence, currentSequence: 200));

    [Fact]
    public void The_store_survives_a_reopen_and_an_absent_folder_keeps_it_in_memory()
    {
        var folder = Path.Combine(Path.GetTempPath(), "kvndb-meta-" + Guid.NewGuid().ToString("N"));
        try
        {
            var member = new InSyncMember(Guid.NewGuid(), 3, Embedded: false, MaxRecord: (2 << 20) - 64);
            new FileMetadataStore(folder).Save(Metadata with { Members = [member], NodeNumbers = new Dictionary<Guid, int> { [member.NodeId] = 3 } });
            var loaded = new FileMetadataStore(folder).Load();
            Assert.Equal(Current, loaded.History);
            Assert.Equal(100UL, loaded.ForkSequence);
            Assert.Equal([member], loaded.Members);
            Assert.Equal(3, loaded.NodeNumbers[member.NodeId]);
            Assert.False(File.Exists(Path.Combine(folder, "metadata.json.tmp")));
            Assert.Empty(new FileMetadataStore(null).Load().Members);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_member_written_before_record_limits_were_kept_loads_with_an_unknown_limit()
    {
        var folder = Path.Combine(Path.GetTempPath(), "kvndb-meta-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var id = Guid.NewGuid();
            File.WriteAllText(Path.Combine(folder, "metadata.json"),
                $"{{\"Format\": 1, \"Members\": [{{\"NodeId\": \"{id}\", \"Number\": 2, \"Embedded\": false}}]}}");
            Assert.Equal([new InSyncMember(id, 2, false, MaxRecord: 0)], new FileMetadataStore(folder).Load().Members);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_newer_format_is_refused()
    {
        var folder = Path.Combine(Path.GetTempPath(), "kvndb-meta-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "metadata.json"), "{\"Format\": 99}");
            Assert.Throws<InvalidDataException>(() => new FileMetadataStore(folder).Load());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Guid History(string name) => name switch
    {
        "current" => Current,
        "parent" => Parent,
        "none" => Guid.Empty,
        _ => Guid.NewGuid(),
    };
}
