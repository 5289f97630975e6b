using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>
/// Finds the router to connect to. One router: that one, exactly as always. A router group
/// (<see cref="KvnDbClientOptions.Routers"/>): the router of the last connection first, then each in turn; a standby's
/// NotLeader names the leader, tried next. Every attempt is bounded by <see cref="KvnDbClientOptions.ConnectTimeout"/>.
/// </summary>
internal sealed class RouterDirectory
{
    private readonly KvnDbClientOptions _options;
    private readonly RouterAddress[] _routers;
    private readonly Lock _lock = new();
    private RouterAddress? _last;

    public RouterDirectory(KvnDbClientOptions options)
    {
        _options = options;
        _routers = options.Routers.Count == 0 ? [] : [.. options.Routers.Select(RouterAddress.Parse)];
    }

    public async Task<ClientConnection> ConnectAsync(Action<ClientConnection>? onDead, CancellationToken cancellationToken)
    {
        if (_routers.Length == 0)
            return await ClientConnection.ConnectAsync(_options, cancellationToken, onDead).ConfigureAwait(false);
        var order = new List<RouterAddress>(_routers.Length + 1);
        lock (_lock)
        {
            if (_last is { } last)
                order.Add(last);
        }
        order.AddRange(_routers.Where(r => !order.Contains(r)));
        KvnDbException? failure = null;
        KvnDbNotLeaderException? standby = null;
        var redirects = 0;
        for (var i = 0; i < order.Count; i++)
        {
            var router = order[i];
            try
            {
                var connection = await ClientConnection.ConnectAsync(_options with { Host = router.Host, Port = router.Port }, cancellationToken, onDead).ConfigureAwait(false);
                lock (_lock)
                    _last = router;
                return connection;
            }
            catch (KvnDbNotLeaderException ex)
            {
                failure = ex;
                standby = ex;
                // The leader it names goes next (once per router: two standbys that name each other cannot loop).
                if (RouterAddress.TryParse(ex.Leader, out var leader) && leader != router && redirects++ < _routers.Length)
                    order.Insert(i + 1, leader);
            }
            catch (KvnDbConnectionException ex)
            {
                failure = ex;
            }
        }
        // A standby's answer goes inside: the group is alive and electing, the caller asks again soon instead of backing off.
        throw new KvnDbConnectionException($"no router of {string.Join(",", _routers)} took the connection: {failure?.Message}", (KvnDbException?)standby ?? failure);
    }
}
