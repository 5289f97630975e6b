using System.CommandLine;
using KvnDb.Chaos;

var seconds = new Option<double>("--seconds", "-s") { Description = "How long to disturb the cluster", DefaultValueFactory = _ => 60 };
var nodes = new Option<int>("--nodes", "-n") { Description = "Node processes", DefaultValueFactory = _ => 3 };
var routers = new Option<int>("--routers") { Description = "Router processes: 1, or a router group of N (router-kill and router-freeze then hit the leader; cut and cut-all need a single router)", DefaultValueFactory = _ => 1 };
var electionTimeout = new Option<double>("--election-timeout") { Description = "The routers' --election-timeout in milliseconds (with --routers N; the router's default)", DefaultValueFactory = _ => 400 };
var joinGrace = new Option<double>("--join-grace") { Description = "The routers' --join-grace in seconds", DefaultValueFactory = _ => 1 };
var keys = new Option<int>("--keys", "-k") { Description = "Key space of the writers", DefaultValueFactory = _ => 2000 };
var writers = new Option<int>("--writers", "-w") { Description = "Concurrent writers", DefaultValueFactory = _ => 4 };
var interval = new Option<double>("--interval", "-i") { Description = "Quiet seconds between one disturbance's recovery and the next", DefaultValueFactory = _ => 2 };
var engine = new Option<string>("--engine", "-e") { Description = "Node engine (persistent engines rejoin with their data)", DefaultValueFactory = _ => "dir" };
var seed = new Option<int?>("--seed") { Description = "Random seed (printed at start) to replay a run" };
var faults = new Option<string>("--faults", "-f")
{
    Description = $"Disturbances to deal, comma-separated: all, {string.Join(", ", DisturbanceKinds.All.Select(DisturbanceKinds.Name))}",
    DefaultValueFactory = _ => "all",
};
var minRounds = new Option<int>("--min-rounds") { Description = "Go on past --seconds until this many rounds (every selected disturbance once each) are done", DefaultValueFactory = _ => 0 };
var maxFault = new Option<double>("--max-fault") { Description = "Longest freeze or cut in seconds (each lasts a random 1 s to this)", DefaultValueFactory = _ => 8 };
var lateWrites = new Option<int>("--late-writes") { Description = "Acknowledged writes a late-returning node misses, on average", DefaultValueFactory = _ => 1000 };
var nodeEvict = new Option<double>("--node-evict") { Description = "The router's --node-evict in seconds", DefaultValueFactory = _ => 3 };
var nodeTimeout = new Option<double>("--node-timeout") { Description = "The router's --node-timeout in seconds", DefaultValueFactory = _ => 1 };
var routerTimeout = new Option<double>("--router-timeout") { Description = "The nodes' --router-timeout and --connect-timeout in seconds", DefaultValueFactory = _ => 2 };
var keep = new Option<bool>("--keep") { Description = "Keep the work directory (logs, data) after a passing run" };

var root = new RootCommand("kvndb-chaos: kills, freezes, cuts and late-returns nodes and kills and freezes the router (the leader of a router group: --routers 3) under write load; checks the ledger of acknowledged writes after every router restart and at the end, and that all replicas agree.")
{
    seconds, nodes, routers, electionTimeout, joinGrace, keys, writers, interval, engine, seed, faults, minRounds, maxFault, lateWrites, nodeEvict, nodeTimeout, routerTimeout, keep,
};
root.SetAction(async (parse, interrupt) =>
{
    var options = new ChaosOptions
    {
        Duration = TimeSpan.FromSeconds(parse.GetValue(seconds)),
        Nodes = parse.GetValue(nodes),
        Routers = Math.Max(1, parse.GetValue(routers)),
        ElectionTimeout = TimeSpan.FromMilliseconds(parse.GetValue(electionTimeout)),
        JoinGrace = TimeSpan.FromSeconds(parse.GetValue(joinGrace)),
        Keys = parse.GetValue(keys),
        Writers = parse.GetValue(writers),
        Interval = TimeSpan.FromSeconds(parse.GetValue(interval)),
        Engine = parse.GetValue(engine)!,
        Seed = parse.GetValue(seed) ?? Environment.TickCount,
        Kinds = DisturbanceKinds.Parse(parse.GetValue(faults)!),
        MinRounds = parse.GetValue(minRounds),
        MaxFault = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(maxFault))),
        LateWrites = Math.Max(1, parse.GetValue(lateWrites)),
        NodeEvict = TimeSpan.FromSeconds(parse.GetValue(nodeEvict)),
        NodeTimeout = TimeSpan.FromSeconds(parse.GetValue(nodeTimeout)),
        RouterTimeout = TimeSpan.FromSeconds(parse.GetValue(routerTimeout)),
        Keep = parse.GetValue(keep),
    };
    return await new ChaosRun(options, Console.Out).RunAsync(interrupt);
});
return await root.Parse(args).InvokeAsync();
