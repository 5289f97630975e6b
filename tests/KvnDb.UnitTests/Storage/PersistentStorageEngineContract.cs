namespace KvnDb.UnitTests.Storage;

/// <summary>The contract of an engine that keeps its data: everything the base contract checks survives a clean close and reopen.</summary>
public abstract class PersistentStorageEngineContract : StorageEngineContract
{
    [Fact]
    public async Task Reopening_keeps_values_sequences_count_deletes_and_the_last_sequence()
    {
        ulong sequence = 0;
        for (var i = 0; i < 200; i++)
            Engine.Set(B($"k{i:D3}"), B($"v{i}"), ++sequence);
        for (var i = 0; i < 200; i += 4)
            Engine.Delete(B($"k{i:D3}"), ++sequence);
        Engine.Set(B("k001"), B("overwritten"), ++sequence);
        Engine.Set(B("empty"), [], ++sequence);
        Engine.Delete(B("never-there"), ++sequence);

        await ReopenAsync();

        Assert.Equal(sequence, Engine.LastSequence);
        Assert.Equal(150 + 1, Engine.Count);
        Assert.Equal((B("overwritten"), 251UL), Read(B("k001")));
        Assert.Equal((B("v2"), 3UL), Read(B("k002")));
        Assert.Null(Read(B("k004")));
        Assert.False(Engine.Exists(B("k000")));
        Assert.Equal((Array.Empty<byte>(), 252UL), Read(B("empty")));
        Assert.Equal(150, Listed("k").Count);
        Assert.Equal(151, Engine.Scan().Count());
    }

    [Fact]
    public async Task Reopening_keeps_binary_and_large_keys_and_values()
    {
        for (var i = 0; i < BinaryKeys.Length; i++)
            Engine.Set(BinaryKeys[i], [(byte)i], (ulong)i + 1);
        var large = new byte[1 << 20];
        new Random(3).NextBytes(large);
        Engine.Set(B("large"), large, 50);
        Engine.Delete(B("large-gone"), 51);

        await ReopenAsync();

        Assert.Equal(large, Read(B("large"))!.Value.Value);
        Assert.True(Engine.Delete(B("large"), 52));
        AssertBinaryKeys();
    }

    [Fact]
    public async Task Reopening_keeps_a_mark_and_a_clear()
    {
        Engine.Set(B("k"), B("v"), 3);
        Engine.MarkApplied(40);
        await ReopenAsync();
        Assert.Equal(40UL, Engine.LastSequence);

        Engine.Clear();
        Engine.Set(B("after"), B("clear"), 2);
        await ReopenAsync();
        Assert.Equal(2UL, Engine.LastSequence);
        Assert.Equal(["after"], Listed(""));
        Assert.False(Engine.Exists(B("k")));
    }
}
