using System.CommandLine;
using KvnDb.Chaos;

var seconds = new Option<double>("--seconds", "-s") { Description = "How long to disturb the cluster", DefaultValueFactory = _ => 60 };
var nodes = new Option<int>("--nodes", "-n") { Description = "Node processes", DefaultValueFactory = _ => 3 };
var keys = new Option<int>("--keys", "-k") { Description = "Key space of the writers", DefaultValueFactory = _ => 2000 };
var writers = new Option<int>("--writers", "-w") { Description = "Concurrent writers", DefaultValueFactory = _ => 4 };
var interval = new Option<double>("--interval", "-i") { Description = "Seconds between disturbances", DefaultValueFactory = _ => 2 };
var engine = new Option<string>("--engine", "-e") { Description = "Node engine (persistent engines rejoin with their data)", DefaultValueFactory = _ => "dir" };
var seed = new Option<int?>("--seed") { Description = "Random seed (printed at start) to replay a run" };

var root = new RootCommand("kvndb-chaos: SIGKILLs nodes and the router under write load, then checks that no acknowledged write was lost and all replicas agree.")
{
    seconds, nodes, keys, writers, interval, engine, seed,
};
root.SetAction(async parse =>
{
    var options = new ChaosOptions
    {
        Duration = TimeSpan.FromSeconds(parse.GetValue(seconds)),
        Nodes = parse.GetValue(nodes),
        Keys = parse.GetValue(keys),
        Writers = parse.GetValue(writers),
        Interval = TimeSpan.FromSeconds(parse.GetValue(interval)),
        Engine = parse.GetValue(engine)!,
        Seed = parse.GetValue(seed) ?? Environment.TickCount,
    };
    return await new ChaosRun(options, Console.Out).RunAsync();
});
return await root.Parse(args).InvokeAsync();
