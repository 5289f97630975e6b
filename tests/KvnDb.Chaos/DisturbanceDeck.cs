namespace KvnDb.Chaos;

/// <summary>
/// The schedule's order: the selected kinds shuffled into a round, dealt one by one, reshuffled when the round
/// is spent, so even a short run sees every kind once per round, in an order the seed fixes.
/// </summary>
internal sealed class DisturbanceDeck(IReadOnlyList<DisturbanceKind> kinds, Random random)
{
    private readonly Queue<DisturbanceKind> _round = [];

    public int RoundsDealt { get; private set; }

    /// <summary>True when the last card of a round has been dealt (or none yet).</summary>
    public bool AtRoundEnd => _round.Count == 0;

    public DisturbanceKind Deal()
    {
        if (_round.Count == 0)
        {
            var shuffled = kinds.ToArray();
            random.Shuffle(shuffled);
            foreach (var kind in shuffled)
                _round.Enqueue(kind);
            RoundsDealt++;
        }
        return _round.Dequeue();
    }
}
