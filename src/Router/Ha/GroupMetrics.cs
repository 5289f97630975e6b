using System.Diagnostics.Metrics;

namespace KvnDb.Router.Ha;

/// <summary>
/// The router group's instruments on meter <c>KvnDb.RouterGroup</c> (<c>dotnet-counters monitor --counters
/// KvnDb.RouterGroup</c>): they outlive the router hosts that come and go with the role. Observed, never recorded.
/// </summary>
internal sealed class GroupMetrics : IDisposable
{
    public const string MeterName = "KvnDb.RouterGroup";

    private readonly Meter _meter = new(MeterName, typeof(GroupMetrics).Assembly.GetName().Version?.ToString(3));

    public GroupMetrics(RouterGroup group)
    {
        _meter.CreateObservableCounter("kvndb.router_group.elections_won", () => group.Elections, description: "Times this router became the active router");
        _meter.CreateObservableCounter("kvndb.router_group.step_downs", () => group.StepDowns, description: "Times this router stopped being the active router (deposed, or its quorum lost)");
        _meter.CreateObservableCounter("kvndb.router_group.leader_changes", () => group.LeaderChanges, description: "Leader changes this router saw");
        _meter.CreateObservableCounter("kvndb.router_group.stalls", () => group.Stalls, description: "Times this process did not run for a quarter of the election timeout (the leader lease was then not trusted)");
        _meter.CreateObservableGauge("kvndb.router_group.term", () => group.Term, description: "The Raft term as this router knows it");
        _meter.CreateObservableGauge("kvndb.router_group.active", () => group.IsActive ? 1 : 0, description: "1 while this router is the active router");
    }

    public void Dispose() => _meter.Dispose();
}
