using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>
/// Which router the node tries next: the leader a standby named (NotLeader), else the router it last linked to, else the
/// next of <see cref="NodeOptions.Routers"/> in turn. One router (no group): always that one.
/// </summary>
internal sealed class RouterRotation(NodeOptions options)
{
    private readonly RouterAddress[] _routers = options.Routers.Count > 0 ? [.. options.Routers] : [new RouterAddress(options.RouterHost, options.RouterPort)];
    private int _next;
    private RouterAddress? _redirect;
    private int _failedInARow;

    public RouterAddress Current { get; private set; }

    /// <summary>Redirects followed in a row without a link: past one round of the list they wait out the backoff.</summary>
    public int RedirectsInARow { get; private set; }

    public int Count => _routers.Length;

    public RouterAddress Next()
    {
        if (_redirect is { } leader)
        {
            _redirect = null;
            return Current = leader;
        }
        Current = _routers[_next];
        _next = (_next + 1) % _routers.Length;
        return Current;
    }

    /// <summary>The router answered NotLeader: go to the leader it named next (ignored when it named itself or none).</summary>
    public bool Redirect(string leader)
    {
        RedirectsInARow++;
        if (!RouterAddress.TryParse(leader, out var address) || address == Current)
            return false;
        _redirect = address;
        return true;
    }

    /// <summary>
    /// An attempt failed without a link (refused, unreachable): true while this round of the list still has a router to
    /// try at once (a group whose leader died: the next router may already lead, or name the one that does); false once
    /// every router failed in a row, when the caller backs off. One router: always false.
    /// </summary>
    public bool TryNextAtOnce()
    {
        if (++_failedInARow < _routers.Length)
            return true;
        _failedInARow = 0;
        return false;
    }

    /// <summary>Linked: the next attempt after this link ends starts with the same router.</summary>
    public void Linked()
    {
        RedirectsInARow = 0;
        _failedInARow = 0;
        var index = Array.IndexOf(_routers, Current);
        if (index >= 0)
            _next = index;
    }

    public NodeOptions OptionsFor(RouterAddress router) =>
        router.Host == options.RouterHost && router.Port == options.RouterPort ? options : options with { RouterHost = router.Host, RouterPort = router.Port };
}
