using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using KvnDb.Node.Storage;

namespace KvnDb.UnitTests.Storage;

/// <summary>
/// What is particular to the <c>dir</c> engine (the contract suite covers the rest): its files on disk
/// and what a crash can leave of them.
/// </summary>
public sealed class DirStorageEngineTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string KeysFolder => _directory.PathOf("keys");

    public void Dispose() => _directory.Dispose();

    private static string[] Names(string folder) => [.. Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    [Fact]
    public void Each_key_is_one_file_named_by_its_hex_holding_sequence_key_and_value()
    {
        var engine = new DirStorageEngine(_directory.Path);
        engine.Set("ab"u8, "value"u8, 7);

        var file = Path.Combine(KeysFolder, "k6162.kv");
        Assert.Equal(["k6162.kv"], Names(KeysFolder));
        var content = File.ReadAllBytes(file);
        Assert.Equal(7UL, BinaryPrimitives.ReadUInt64LittleEndian(content));
        Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(content.AsSpan(8)));
        Assert.Equal("abvalue"u8.ToArray(), content[12..]);
        Assert.Equal("7", File.ReadAllText(_directory.PathOf("last-sequence")));
    }

    [Fact]
    public void A_key_too_long_for_a_hex_name_is_stored_under_its_sha256()
    {
        var engine = new DirStorageEngine(_directory.Path);
        var longest = new byte[100]; // 200 hex characters: still named by its hex
        var tooLong = new byte[101];
        Array.Fill(longest, (byte)'x');
        Array.Fill(tooLong, (byte)'y');
        engine.Set(longest, "a"u8, 1);
        engine.Set(tooLong, "b"u8, 2);

        Assert.Equal(
            new[] { "h" + Convert.ToHexStringLower(SHA256.HashData(tooLong)) + ".kv", "k" + Convert.ToHexStringLower(longest) + ".kv" }.Order(StringComparer.Ordinal),
            Names(KeysFolder));
        Assert.Equal(
            new[] { longest, tooLong }.Select(Convert.ToHexString).Order(),
            engine.ListKeys(ReadOnlyMemory<byte>.Empty).Select(Convert.ToHexString).Order());
    }

    [Fact]
    public void A_set_or_delete_leaves_no_temporary_file()
    {
        var engine = new DirStorageEngine(_directory.Path);
        engine.Set("k"u8, "1"u8, 1);
        engine.Set("k"u8, "2"u8, 2);
        engine.Delete("k"u8, 3);
        engine.Set("j"u8, "3"u8, 4);
        Assert.Equal(["k6a.kv"], Names(KeysFolder));
        Assert.Equal(["last-sequence"], Names(_directory.Path));
    }

    [Fact]
    public void Temporary_files_a_crash_left_behind_are_neither_counted_listed_nor_read()
    {
        var engine = new DirStorageEngine(_directory.Path);
        engine.Set("k"u8, "old"u8, 1);
        // A crash between writing the replacement and renaming it over the old file.
        File.WriteAllBytes(Path.Combine(KeysFolder, "k6b.kv.tmp"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(KeysFolder, "k6c.kv.tmp"), [1, 2, 3]); // a new key that never got renamed
        File.WriteAllText(_directory.PathOf("last-sequence.tmp"), "99");

        var reopened = new DirStorageEngine(_directory.Path);
        Assert.Equal(1, reopened.Count);
        Assert.Equal(1UL, reopened.LastSequence);
        Assert.Equal(["k"], reopened.ListKeys(ReadOnlyMemory<byte>.Empty).Select(k => Encoding.UTF8.GetString(k)));
        Assert.False(reopened.Exists("l"u8));
        Assert.True(reopened.TryGet("k"u8, out var stored));
        Assert.Equal("old"u8.ToArray(), stored.Value.ToArray());

        reopened.Set("k"u8, "new"u8, 2); // the leftover is simply overwritten by the next replacement
        Assert.True(reopened.TryGet("k"u8, out stored));
        Assert.Equal("new"u8.ToArray(), stored.Value.ToArray());
    }

    [Fact]
    public void An_unreadable_last_sequence_file_counts_as_zero_and_the_next_write_repairs_it()
    {
        new DirStorageEngine(_directory.Path).Set("k"u8, "v"u8, 5);
        File.WriteAllText(_directory.PathOf("last-sequence"), "not a number");

        var reopened = new DirStorageEngine(_directory.Path);
        Assert.Equal(0UL, reopened.LastSequence);
        Assert.Equal(1, reopened.Count); // the keys themselves are intact
        reopened.MarkApplied(9);
        Assert.Equal(9UL, new DirStorageEngine(_directory.Path).LastSequence);
    }

    [Fact]
    public void A_key_deleted_while_listing_is_skipped()
    {
        var engine = new DirStorageEngine(_directory.Path);
        for (var i = 0; i < 20; i++)
            engine.Set(Encoding.UTF8.GetBytes($"k{i:D2}"), "v"u8, (ulong)i + 1);

        var listed = new List<string>();
        var deleted = new HashSet<string>();
        foreach (var key in engine.ListKeys(ReadOnlyMemory<byte>.Empty))
        {
            listed.Add(Encoding.UTF8.GetString(key));
            if (listed.Count == 1)
            {
                // Delete every key but the one just listed while the listing is under way.
                foreach (var other in Enumerable.Range(0, 20).Select(i => $"k{i:D2}").Where(k => k != listed[0]))
                {
                    engine.Delete(Encoding.UTF8.GetBytes(other), 100);
                    deleted.Add(other);
                }
            }
        }
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.Single(listed, k => !deleted.Contains(k));
        Assert.Equal(1, engine.Count);
    }

    [Fact]
    public void Clear_removes_every_file_including_leftovers()
    {
        var engine = new DirStorageEngine(_directory.Path);
        engine.Set("a"u8, "1"u8, 1);
        File.WriteAllBytes(Path.Combine(KeysFolder, "k62.kv.tmp"), [0]);
        engine.Clear();
        Assert.Empty(Directory.GetFiles(KeysFolder));
        Assert.False(File.Exists(_directory.PathOf("last-sequence")));
        Assert.Equal(0UL, new DirStorageEngine(_directory.Path).LastSequence);
    }
}
