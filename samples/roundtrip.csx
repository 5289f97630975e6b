// A script that connects by itself: runs unchanged under dotnet-script and under kvndb-script.
//
//   dotnet publish src/Client.FSharp -c Release -o samples/lib   # once: puts KvnDb.Client.dll beside the samples
//   dotnet script samples/roundtrip.csx -- 127.0.0.1:54565
//   kvndb-script samples/roundtrip.csx -- 127.0.0.1:54565        # here the #r binds to the host's own client
//
// Password, if the router has one: the KVNDB_PASSWORD environment variable.
#nullable enable
#r "lib/KvnDb.Client.dll"
#r "lib/KvnDb.Protocol.dll"
using KvnDb.Client;

var endpoint = Args.Count > 0 ? Args[0] : "127.0.0.1:54565";
var client = await KvnDbClient.ConnectAsync(KvnDbClientOptions.FromEndpoint(endpoint, Environment.GetEnvironmentVariable("KVNDB_PASSWORD") ?? ""));
try
{
    var key = $"roundtrip/{Guid.NewGuid():N}";
    await client.SetAsync(key, "hello from a script");
    var value = await client.GetStringAsync(key);
    Console.WriteLine($"{key} = {value}");
    await client.DeleteAsync(key);
    Console.WriteLine(value == "hello from a script" && !await client.ExistsAsync(key) ? "roundtrip ok" : "roundtrip FAILED");
}
finally
{
    await client.DisposeAsync();
}
