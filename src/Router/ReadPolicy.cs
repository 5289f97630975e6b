namespace KvnDb.Router;

/// <summary>How the router picks the serving node for a read.</summary>
public enum ReadPolicy
{
    /// <summary>The node with the fewest requests in flight, random among ties (default).</summary>
    LeastOutstanding,
    Random,
    RoundRobin,
}
