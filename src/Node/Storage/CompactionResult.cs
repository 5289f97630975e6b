namespace KvnDb.Node.Storage;

/// <summary>What a compaction of the faster log did, or why it did not run (<see cref="SkippedBecause"/>).</summary>
public readonly record struct CompactionResult(long LogBytesBefore, long LogBytesAfter, long DiskBytesBefore, long DiskBytesAfter, TimeSpan Took, string? SkippedBecause = null)
{
    public bool Ran => SkippedBecause is null;

    public static CompactionResult Skipped(string why) => new(0, 0, 0, 0, TimeSpan.Zero, why);
}
