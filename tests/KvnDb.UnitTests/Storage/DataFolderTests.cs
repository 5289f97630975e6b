using System.Text.Json.Nodes;
using KvnDb.Node.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.UnitTests.Storage;

/// <summary>The data folder's lock and format stamp, checked before any engine opens a file in it.</summary>
public sealed class DataFolderTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string StampFile => _directory.PathOf(FormatStamp.FileName);

    [Fact]
    public void An_empty_folder_is_stamped_with_this_build_s_format_and_opens_again()
    {
        using (var folder = DataFolder.Open(_directory.Path, "faster"))
        {
            Assert.True(folder.Created);
            Assert.True(folder.LockEnforced);
        }
        var stamp = JsonNode.Parse(File.ReadAllText(StampFile))!;
        Assert.Equal("faster", (string?)stamp["engine"]);
        Assert.Equal(FormatStamp.CurrentRecordLayout, (int?)stamp["recordLayout"]);
        Assert.Equal("xxhash3-64", (string?)stamp["keyHashing"]);
        Assert.Equal(FormatStamp.CurrentFormat, (int?)stamp["format"]);
        Assert.False(File.Exists(StampFile + ".tmp"));
        using var again = DataFolder.Open(_directory.Path, "faster");
        Assert.False(again.Created);
    }

    [Fact]
    public async Task A_folder_made_by_this_build_then_stamped_as_an_older_layout_is_refused()
    {
        using (DataFolder.Open(_directory.Path, "faster"))
        {
            await using var engine = OpenFaster();
            engine.Set("k"u8, "v"u8, 1);
        }
        Restamp(stamp => stamp["recordLayout"] = FormatStamp.OldestReadableRecordLayout - 1);
        var refused = Assert.Throws<DataFolderException>(() => DataFolder.Open(_directory.Path, "faster"));
        Assert.Contains("older build", refused.Message);
        Assert.Contains($"record layout {FormatStamp.OldestReadableRecordLayout - 1}", refused.Message);
        Assert.Contains("empty one", refused.Message);
    }

    [Fact]
    public async Task A_folder_of_record_layout_1_opens_as_it_is_and_is_restamped_with_the_current_layout()
    {
        using (DataFolder.Open(_directory.Path, "faster"))
        {
            await using var engine = OpenFaster();
            engine.Set("k"u8, "v"u8, 1); // no expiry: the layout-1 record exactly
        }
        Restamp(stamp => stamp["recordLayout"] = 1);
        using (var folder = DataFolder.Open(_directory.Path, "faster"))
        {
            await using var engine = OpenFaster();
            Assert.True(engine.TryGet("k"u8, out var stored));
            Assert.Equal("v"u8.ToArray(), stored.Value.ToArray());
            Assert.Equal(0, stored.ExpiresAt);
        }
        Assert.Equal(FormatStamp.CurrentRecordLayout, FormatStamp.Read(_directory.Path)!.RecordLayout);
    }

    [Theory]
    [InlineData("recordLayout", "newer", "newer build")]
    [InlineData("keyHashing", "other", "hashes its keys")]
    [InlineData("engine", "dir", "holds a 'dir' store")]
    [InlineData("format", "newer", "newer than this build reads")]
    public void A_stamp_this_build_does_not_read_is_refused_with_the_reason(string field, string change, string expected)
    {
        using (DataFolder.Open(_directory.Path, "faster"))
        {
        }
        Restamp(stamp => stamp[field] = (field, change) switch
        {
            ("recordLayout", _) => (JsonNode)(FormatStamp.CurrentRecordLayout + 1),
            ("format", _) => (JsonNode)(FormatStamp.CurrentFormat + 1),
            _ => (JsonNode)change,
        });
        Assert.Contains(expected, Assert.Throws<DataFolderException>(() => DataFolder.Open(_directory.Path, "faster")).Message);
    }

    [Fact]
    public void Data_without_a_stamp_is_refused_and_left_as_it_was()
    {
        _directory.Write("hlog/hlog.log.0", "older build");
        _directory.Write("node-id", Guid.NewGuid().ToString());
        var refused = Assert.Throws<DataFolderException>(() => DataFolder.Open(_directory.Path, "faster"));
        Assert.Contains("no format stamp", refused.Message);
        Assert.Contains("hlog", refused.Message);
        Assert.False(File.Exists(StampFile));
        Assert.Equal("older build", File.ReadAllText(_directory.PathOf("hlog/hlog.log.0")));
        // The refusal released the lock: a second try says the same, not "in use".
        Assert.Contains("no format stamp", Assert.Throws<DataFolderException>(() => DataFolder.Open(_directory.Path, "faster")).Message);
    }

    [Fact]
    public void An_unreadable_stamp_is_refused()
    {
        File.WriteAllText(StampFile, "{ not json");
        Assert.Contains("not a readable format stamp", Assert.Throws<DataFolderException>(() => DataFolder.Open(_directory.Path, "faster")).Message);
    }

    [Fact]
    public void A_second_open_of_a_held_folder_is_refused_naming_the_holder_and_works_once_released()
    {
        var first = DataFolder.Open(_directory.Path, "faster");
        var refused = Assert.Throws<DataFolderException>(() => DataFolder.Open(_directory.Path, "faster"));
        Assert.Contains($"pid {Environment.ProcessId}", refused.Message);
        Assert.Contains("in use by another kvndb-node", refused.Message);
        Assert.Equal($"pid {Environment.ProcessId}", FolderLock.Holder(_directory.Path)?.Split(',')[0]);
        first.Dispose();
        Assert.Null(FolderLock.Holder(_directory.Path));
        using var second = DataFolder.Open(_directory.Path, "faster");
        Assert.True(File.Exists(_directory.PathOf(FolderLock.FileName)), "the lock file is never deleted: only the OS lock counts");
    }

    [Fact]
    public void A_lock_file_left_by_a_dead_process_locks_nothing()
    {
        File.WriteAllText(_directory.PathOf(FolderLock.FileName), "pid 999999\nstarted 2020-01-01T00:00:00Z\n");
        using var folder = DataFolder.Open(_directory.Path, "faster");
        Assert.StartsWith($"pid {Environment.ProcessId}, started ", FolderLock.Holder(_directory.Path));
    }

    private void Restamp(Action<JsonObject> change)
    {
        var stamp = JsonNode.Parse(File.ReadAllText(StampFile))!.AsObject();
        change(stamp);
        File.WriteAllText(StampFile, stamp.ToJsonString());
    }

    private FasterStorageEngine OpenFaster() =>
        FasterStorageEngine.Open(_directory.Path, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = _directory.Path,
            MemoryBytes = FasterSizing.MinimumBudget,
            CheckpointInterval = System.Threading.Timeout.InfiniteTimeSpan,
        }, NullLogger.Instance);
}
