// An F# script for kvndb-script: the host gives it Kv, Args, Log and Cancellation, as to C# scripts,
// and opens KvnDb.Client.FSharp (options instead of nulls, lists instead of async streams).
//
//   kvndb-script samples/keys.fsx --port 54565 -- [PREFIX]
//
// Prints each key under PREFIX (all keys when none) with its value's size, then a count.
let prefix = if Args.Count > 0 then Args.[0] else ""

let keys = Kv.KeysAsync(prefix, Cancellation).Result

for batch in List.chunkBySize 500 keys do
    for key, value in Kv.TryGetManyAsync(batch, Cancellation).Result do
        match value with
        | Some v -> printfn "%s\t%d bytes" key (Text.Encoding.UTF8.GetByteCount v)
        | None -> () // deleted meanwhile

Log.LogInformation("{Count} keys under '{Prefix}'", keys.Length, prefix)
printfn "%d keys" keys.Length
