namespace KvnDb.Router.Groups;

/// <summary>Points of a migration where <see cref="MigrationCoordinator.StepHook"/> is awaited (tests hold a migration there).</summary>
internal enum MigrationStep
{
    /// <summary>A chunk was applied by the target's in-sync nodes; the next one is not asked for yet (writes are still relayed).</summary>
    ChunkApplied,

    /// <summary>The map gives the slots to the target; the source still holds its copies (its cleanup is next).</summary>
    Switched,
}
