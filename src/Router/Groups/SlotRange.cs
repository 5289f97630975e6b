namespace KvnDb.Router.Groups;

/// <summary>Slots <see cref="First"/> to <see cref="Last"/> (inclusive) belong to <see cref="Group"/>: how the slot map is stored.</summary>
internal sealed record SlotRange(int First, int Last, string Group);
