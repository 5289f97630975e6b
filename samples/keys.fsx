// An F# script for kvndb-script: the host gives it Kv, Args, Log and Cancellation, as to C# scripts.
//
//   kvndb-script samples/keys.fsx --port 54565 -- [PREFIX]
//
// Prints each key under PREFIX (all keys when none) with its value's size, then a count.
let prefix = if Args.Count > 0 then Args.[0] else ""

/// Reads the router's key stream to the end (F# has no `for` over IAsyncEnumerable inside task { }).
let listKeys (prefix: string) =
    task {
        let keys = ResizeArray<string>()
        let e = Kv.ListKeyStringsAsync(prefix, Cancellation).GetAsyncEnumerator(Cancellation)
        let mutable more = true
        while more do
            let! next = e.MoveNextAsync()
            if next then keys.Add e.Current else more <- false
        do! e.DisposeAsync()
        return keys.ToArray()
    }

let keys = (listKeys prefix).Result

for batch in Array.chunkBySize 500 keys do
    let values = Kv.MultiGetStringsAsync(batch, Cancellation).Result
    for key, value in Array.zip batch values do
        match Option.ofObj value with
        | Some v -> printfn "%s\t%d bytes" key (System.Text.Encoding.UTF8.GetByteCount v)
        | None -> () // deleted meanwhile

Log.LogInformation("{Count} keys under '{Prefix}'", keys.Length, prefix)
printfn "%d keys" keys.Length
