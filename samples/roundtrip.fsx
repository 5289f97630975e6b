// F# without the host: plain `dotnet fsi` with the client referenced by #r.
//
//   dotnet publish src/Client -c Release -o samples/lib          # once: puts KvnDb.Client.dll beside the samples
//   dotnet fsi samples/roundtrip.fsx 127.0.0.1:54565
//
// The C# client needs no F# wrapper: `task { }` binds its Task and ValueTask results directly, a missing
// key is null (Option.ofObj makes it an option), and key listings are IAsyncEnumerable, read with a loop
// over GetAsyncEnumerator as below (F# Interactive does not see System.Linq.AsyncEnumerable).
// `dotnet publish` also copies Microsoft.Extensions.ObjectPool.dll, which the client needs at run time.
// Password: the KVNDB_PASSWORD environment variable.
#r "lib/KvnDb.Client.dll"
#r "lib/KvnDb.Protocol.dll"

open System
open System.Collections.Generic
open KvnDb.Client

let endpoint =
    match fsi.CommandLineArgs with
    | [| _; endpoint |] -> endpoint
    | _ -> "127.0.0.1:54565"

let password = Environment.GetEnvironmentVariable "KVNDB_PASSWORD" |> Option.ofObj |> Option.defaultValue ""

/// All keys under a prefix, read chunk by chunk from the router's stream.
let keysUnder (client: KvnDbClient) (prefix: string) =
    task {
        let keys = ResizeArray<string>()
        let e = client.ListKeyStringsAsync(prefix).GetAsyncEnumerator()
        let mutable more = true
        while more do
            let! next = e.MoveNextAsync()
            if next then keys.Add e.Current else more <- false
        do! e.DisposeAsync()
        return List.ofSeq keys
    }

let run () =
    task {
        let! client = KvnDbClient.ConnectAsync(KvnDbClientOptions.FromEndpoint(endpoint, password))
        try
            let prefix = sprintf "fsx/%s/" (Guid.NewGuid().ToString "N")
            do! client.MultiSetStringsAsync([| KeyValuePair(prefix + "a", "1"); KeyValuePair(prefix + "b", "2") |])
            let! a = client.GetStringAsync(prefix + "a")
            let! missing = client.GetStringAsync(prefix + "nope")
            let! keys = keysUnder client prefix
            printfn "a = %A, nope = %A, keys = %A" (Option.ofObj a) (Option.ofObj missing) (List.sort keys)
            for key in keys do
                let! _ = client.DeleteAsync(key: string)
                ()
            let ok = Option.ofObj a = Some "1" && Option.isNone (Option.ofObj missing) && List.length keys = 2
            printfn (if ok then "roundtrip ok" else "roundtrip FAILED")
            return if ok then 0 else 1
        finally
            client.DisposeAsync().AsTask().Wait()
    }

exit (run().Result)
