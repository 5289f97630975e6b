using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router.Connections;

/// <summary>
/// The router's connection limit, across every listener (native and RESP): a Kestrel connection middleware in
/// front of each port's handler, so a connection is counted (or refused) before any protocol runs. Clients and
/// unauthenticated connections share <see cref="RouterOptions.MaxConnections"/>; nodes have a budget of their own
/// (<see cref="NodeReserve"/> more, on the native port only), so a flood of unauthenticated connections cannot keep
/// a node out. A connection past the client budget is let in on the node reserve only to say a node hello: its
/// handler refuses it otherwise (<see cref="ConnectionTicket.IsReserve"/>). The budget also ends every connection
/// still open when the router stops (<see cref="AbortAll"/>), whatever protocol it speaks.
/// </summary>
internal sealed partial class ConnectionBudget(RouterOptions options, ILogger<ConnectionBudget> logger)
{
    /// <summary>Room kept for node links beside the client budget: one per node the router can hold.</summary>
    public const int NodeReserve = NodeTable.MaxNodes;

    private readonly ConcurrentDictionary<ConnectionTicket, byte> _open = new();
    private int _clients;
    private int _reserve;
    private int _nodes;
    private long _refused;

    /// <summary>Connections counted against the client budget now (unauthenticated ones included).</summary>
    public int Clients => Volatile.Read(ref _clients);

    /// <summary>Node links counted against the node budget now.</summary>
    public int Nodes => Volatile.Read(ref _nodes);

    /// <summary>Connections refused at accept since the start (over every budget).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Connections open now, whichever budget they count against.</summary>
    public int Open => _open.Count;

    /// <summary>
    /// Admits <paramref name="connection"/> and runs the rest of its pipeline (<paramref name="next"/>) holding its place, or
    /// refuses it; <paramref name="acceptsNodes"/> is false for ports where no node can say hello (RESP).
    /// </summary>
    public async Task RunAsync(ConnectionDelegate next, ConnectionContext connection, bool acceptsNodes)
    {
        var ticket = Admit(connection, acceptsNodes);
        if (ticket is null)
        {
            Interlocked.Increment(ref _refused);
            LogRefused(connection.RemoteEndPoint?.ToString() ?? "?", options.MaxConnections);
            connection.Abort(new ConnectionAbortedException("connection limit reached"));
            return;
        }
        connection.Features.Set(ticket);
        _open[ticket] = 0;
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            _open.TryRemove(ticket, out _);
            ticket.Release();
        }
    }

    private ConnectionTicket? Admit(ConnectionContext connection, bool acceptsNodes)
    {
        if (Interlocked.Increment(ref _clients) <= options.MaxConnections)
            return new ConnectionTicket(this, connection, isReserve: false);
        Interlocked.Decrement(ref _clients);
        if (!acceptsNodes)
            return null;
        if (Interlocked.Increment(ref _reserve) <= NodeReserve)
            return new ConnectionTicket(this, connection, isReserve: true);
        Interlocked.Decrement(ref _reserve);
        return null;
    }

    /// <summary>A ticket leaves the budget it counted against (its connection closed, or it waits out an auth-failure delay).</summary>
    internal void Leave(ConnectionTicket ticket, ConnectionTicket.Budget budget)
    {
        switch (budget)
        {
            case ConnectionTicket.Budget.Clients:
                Interlocked.Decrement(ref _clients);
                break;
            case ConnectionTicket.Budget.Reserve:
                Interlocked.Decrement(ref _reserve);
                break;
            case ConnectionTicket.Budget.Nodes:
                Interlocked.Decrement(ref _nodes);
                break;
        }
    }

    internal void EnterNodes() => Interlocked.Increment(ref _nodes);

    /// <summary>Aborts every connection still open (the router is stopping and their handlers had their chance to close cleanly).</summary>
    public int AbortAll(string reason)
    {
        var count = 0;
        foreach (var ticket in _open.Keys)
        {
            ticket.Connection.Abort(new ConnectionAbortedException(reason));
            count++;
        }
        return count;
    }

    /// <summary>Completes once no connection is open, or after <paramref name="timeout"/>; returns how many are still open.</summary>
    public async Task<int> WaitForCloseAsync(TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!_open.IsEmpty && Environment.TickCount64 < deadline)
            await Task.Delay(10).ConfigureAwait(false); // shutdown only: a short poll is simpler than a signal per connection
        return _open.Count;
    }

    [LoggerMessage(100, LogLevel.Warning, "Refused a connection from {Address}: the router holds its limit of {Limit} client connections")]
    private partial void LogRefused(string address, int limit);
}
