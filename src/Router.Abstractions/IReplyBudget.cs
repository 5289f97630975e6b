namespace KvnDb.Router;

/// <summary>
/// A front door's client that bounds its window in bytes (<see cref="ReplyWindow"/>): the router core tells it what a
/// request it submits may bring back (<see cref="ReplySizes"/>), before any node answers.
/// </summary>
internal interface IReplyBudget
{
    /// <summary>A request just submitted may bring a reply of up to <paramref name="replyBytes"/> (0: a small, fixed one).</summary>
    void Expect(long replyBytes);
}
