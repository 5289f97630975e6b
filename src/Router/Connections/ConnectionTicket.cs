using Microsoft.AspNetCore.Connections;

namespace KvnDb.Router.Connections;

/// <summary>
/// One connection's place in the <see cref="ConnectionBudget"/> (a feature of the Kestrel connection): which budget
/// it counts against, moved to the node budget when its hello makes it a node, given back when it closes or waits
/// out an auth-failure delay (a refused peer holds no place while it waits).
/// </summary>
internal sealed class ConnectionTicket(ConnectionBudget owner, ConnectionContext connection, bool isReserve)
{
    internal enum Budget
    {
        None,
        Clients,
        Reserve,
        Nodes,
    }

    private readonly Lock _lock = new();
    private Budget _budget = isReserve ? Budget.Reserve : Budget.Clients;

    public ConnectionContext Connection { get; } = connection;

    /// <summary>Let in past the client budget, on the node reserve: only a node hello may follow.</summary>
    public bool IsReserve { get; } = isReserve;

    /// <summary>The hello made it a node: it counts against the node budget from now on.</summary>
    public void BecomeNode()
    {
        lock (_lock)
        {
            if (_budget is Budget.None or Budget.Nodes)
                return;
            owner.Leave(this, _budget);
            owner.EnterNodes();
            _budget = Budget.Nodes;
        }
    }

    /// <summary>Gives the place back (idempotent).</summary>
    public void Release()
    {
        lock (_lock)
        {
            owner.Leave(this, _budget);
            _budget = Budget.None;
        }
    }
}
