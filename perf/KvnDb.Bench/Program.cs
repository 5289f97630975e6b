using System.Net.Sockets;
using KvnDb.Bench;

var options = BenchOptionsParser.Parse(args, out var error);
if (options is null)
{
    if (error is not null)
        Console.Error.WriteLine($"kvndb-bench: {error}");
    (error is null ? Console.Out : Console.Error).WriteLine(BenchOptionsParser.Usage);
    return error is null ? 0 : 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

if (options.Routers.Count > 0 && options.Protocol == BenchProtocol.KvnDb)
{
    // A router group: the load goes straight to the leader (its standbys would only redirect each connection).
    await using var finder = await KvnDb.Client.KvnDbClient.ConnectAsync(new KvnDb.Client.KvnDbClientOptions { Routers = options.Routers, Password = options.Password }, cancel.Token);
    var leader = KvnDb.Protocol.RouterAddress.Parse(finder.Router);
    options = options with { Host = leader.Host, Port = leader.Port };
}

using var transport = new LoadTransport(options.IoEngine, options.Threads);
WireProtocol wire = options.Protocol == BenchProtocol.Resp ? new RespWire() : new KvnDbWire(options.WriteConcern);
var connections = new List<LoadConnection>();
try
{
    if (options.InfoOnly)
    {
        await using var info = await LoadConnection.ConnectAsync(options.Host, options.EffectivePort, new KvnDbWire(), options.Password, 0, 0, 0, cancel.Token, transport);
        Console.Write(await KvnDbWire.InfoAsync(info, cancel.Token));
        return 0;
    }

    var connecting = Enumerable.Range(0, options.Clients).Select(i => LoadConnection.ConnectAsync(options.Host, options.EffectivePort, wire,
        options.Password, options.Keyspace, options.DataSize, seed: i, cancel.Token, transport));
    connections.AddRange(await Task.WhenAll(connecting));

    LoadConnection? infoConnection = null;
    RouterInfoSnapshot before = default;
    if (options.RouterInfo && options.Protocol == BenchProtocol.KvnDb)
    {
        infoConnection = await LoadConnection.ConnectAsync(options.Host, options.EffectivePort, wire, options.Password, 0, 0, 0, cancel.Token, transport);
        before = RouterInfoSnapshot.Parse(await KvnDbWire.InfoAsync(infoConnection, cancel.Token));
    }

    if (options.Csv)
        Console.WriteLine(ResultPrinter.CsvHeader);
    var showProgress = options.Progress ?? (!Console.IsErrorRedirected && !options.Csv);
    var runner = new BenchRunner(options, connections);
    foreach (var test in options.Tests)
        ResultPrinter.Print(Console.Out, await runner.RunAsync(test, showProgress, cancel.Token), options);

    if (infoConnection is not null)
    {
        var after = RouterInfoSnapshot.Parse(await KvnDbWire.InfoAsync(infoConnection, cancel.Token));
        Console.Error.WriteLine(after.DescribeSince(before));
        await infoConnection.DisposeAsync();
    }
    return 0;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("kvndb-bench: interrupted");
    return 130;
}
catch (Exception ex) when (ex is SocketException or BenchException or InvalidDataException or IOException)
{
    Console.Error.WriteLine($"kvndb-bench: {options.Host}:{options.EffectivePort}: {ex.Message}");
    return 1;
}
finally
{
    foreach (var connection in connections)
        await connection.DisposeAsync();
}
