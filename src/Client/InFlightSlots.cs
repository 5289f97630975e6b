using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>
/// The router's announced <c>max in flight</c>, kept on the client side: a request takes a slot before it is sent
/// and gives it back when the router's final reply arrives (not when the caller gives up: the router still counts a
/// request that timed out here until it answers it). Past the limit a caller waits for a slot, within its request
/// timeout, instead of sending requests the router would leave unread in the socket behind everyone else's.
/// </summary>
internal sealed class InFlightSlots(int limit) : IDisposable
{
    private readonly SemaphoreSlim _free = new(limit, limit);
    private readonly CancellationTokenSource _closed = new();

    public int Limit { get; } = limit;

    /// <summary>The fast path: a free slot at once, without allocating; false when all are taken.</summary>
    public bool TryTake() => _free.Wait(0);

    /// <summary>Waits for a slot; throws <see cref="KvnDbTimeoutException"/> past <paramref name="timeout"/>, or when the connection closes.</summary>
    public async ValueTask TakeAsync(Opcode opcode, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        bool taken;
        try
        {
            taken = await _free.WaitAsync(timeout, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_closed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new KvnDbConnectionException($"the connection closed while {opcode} waited for one of the router's {Limit} requests in flight");
        }
        if (!taken)
            throw new KvnDbTimeoutException($"{opcode} waited {timeout.TotalSeconds:0.###} s for one of the router's {Limit} requests in flight (its max in flight, announced at hello) and was not sent");
    }

    public void Give() => _free.Release();

    /// <summary>The connection died: every waiter fails now instead of at its timeout.</summary>
    public void Close() => _closed.Cancel();

    public void Dispose()
    {
        _closed.Dispose();
        _free.Dispose();
    }
}
