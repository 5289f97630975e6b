// F# without the host: plain `dotnet fsi` with the client referenced by #r.
//
//   dotnet publish src/Client.FSharp -c Release -o samples/lib   # once: the client, its F# extensions, dependencies
//   dotnet fsi samples/roundtrip.fsx 127.0.0.1:54565
//
// KvnDb.Client.FSharp adds F#-shaped calls to the C# client (TryGetStringAsync returns an option,
// SetManyAsync takes tuples, KeysAsync reads a key listing to a list); everything else is the C# API,
// which `task { }` binds directly. Password: the KVNDB_PASSWORD environment variable.
#r "lib/KvnDb.Client.dll"
#r "lib/KvnDb.Protocol.dll"
#r "lib/KvnDb.Client.FSharp.dll"

open System
open KvnDb.Client
open KvnDb.Client.FSharp

let endpoint =
    match fsi.CommandLineArgs with
    | [| _; endpoint |] -> endpoint
    | _ -> "127.0.0.1:54565"

let password = Environment.GetEnvironmentVariable "KVNDB_PASSWORD" |> Option.ofObj |> Option.defaultValue ""

let run () =
    task {
        let! client = KvnDbClient.ConnectAsync(KvnDbClientOptions.FromEndpoint(endpoint, password))
        try
            let prefix = sprintf "fsx/%s/" (Guid.NewGuid().ToString "N")
            do! client.SetManyAsync [ prefix + "a", "1"; prefix + "b", "2" ]
            let! a = client.TryGetStringAsync(prefix + "a")
            let! missing = client.TryGetStringAsync(prefix + "nope")
            let! keys = client.KeysAsync prefix
            printfn "a = %A, nope = %A, keys = %d" a missing (List.length keys)
            for key in keys do
                let! _ = client.DeleteAsync(key: string)
                ()
            let ok = a = Some "1" && missing = None && List.length keys = 2
            printfn (if ok then "roundtrip ok" else "roundtrip FAILED")
            return if ok then 0 else 1
        finally
            client.DisposeAsync().AsTask().Wait()
    }

exit (run().Result)
