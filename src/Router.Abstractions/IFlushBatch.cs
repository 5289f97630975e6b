namespace KvnDb.Router;

/// <summary>
/// The per-batch flush set as a front door sees it: the client outputs it touched, flushed once at
/// the end of the batch together with whatever the core queued for the nodes. Made by
/// <see cref="IRouterCore.CreateFlushBatch"/>; owned by the loop that reads the batch, never shared.
/// </summary>
internal interface IFlushBatch
{
    void Add(OutputChannel client);

    void FlushAll();
}
