namespace KvnDb.Client.FSharp

open System.Collections.Generic
open System.Runtime.ExceptionServices
open System.Threading
open System.Threading.Tasks
open KvnDb.Client
open KvnDb.Protocol

/// F#-shaped calls on KvnDbClient. The C# API already works from `task { }`; these add what F# code
/// would otherwise write by hand each time: options for missing keys, tuples for pairs, and key listings
/// read to a list or walked with a function (F# has no `for` over IAsyncEnumerable in `task { }`).
[<AutoOpen>]
module KvnDbClientExtensions =

    let private tokenOf (cancellationToken: CancellationToken option) =
        defaultArg cancellationToken CancellationToken.None

    type KvnDbClient with

        /// The value of the key as UTF-8 text, or None when the key does not exist.
        member client.TryGetStringAsync(key: string, ?cancellationToken: CancellationToken) : Task<string option> =
            task {
                let! value = client.GetStringAsync(key, tokenOf cancellationToken)
                return Option.ofObj value
            }

        /// The value of the key as bytes, or None when the key does not exist.
        member client.TryGetAsync(key: string, ?cancellationToken: CancellationToken) : Task<byte[] option> =
            task {
                let! value = client.GetAsync(key, tokenOf cancellationToken)
                return Option.ofObj value
            }

        /// The value with the key's version and expiry, or None when the key does not exist.
        member client.TryGetVersionedAsync(key: string, ?cancellationToken: CancellationToken) : Task<VersionedValue option> =
            task {
                let! value = client.GetWithVersionAsync(key, tokenOf cancellationToken)
                return Option.ofObj value
            }

        /// Deletes the key and returns its value as UTF-8 text, or None when it did not exist.
        member client.TryGetDeleteAsync(key: string, ?cancellationToken: CancellationToken) : Task<string option> =
            task {
                let! value = client.GetDeleteAsync(key, cancellationToken = tokenOf cancellationToken)
                return Option.ofObj value
            }

        /// The time the key has left: None when it does not exist or does not expire.
        member client.TryTimeToLiveAsync(key: string, ?cancellationToken: CancellationToken) : Task<System.TimeSpan option> =
            task {
                let! expiry = client.TimeToLiveAsync(key, tokenOf cancellationToken)
                return Option.ofNullable expiry.Remaining
            }

        /// Runs a transaction built by a pipeline of builder calls: `client.TransactAsync(fun tx -> tx.RequireAbsent("k").Set("k", "v"))`.
        member client.TransactAsync(build: TransactionBuilder -> TransactionBuilder, ?writeConcern: WriteConcern, ?cancellationToken: CancellationToken) : Task<TransactionResult> =
            (client.TransactionAsync(build (TransactionBuilder()), Option.toNullable writeConcern, tokenOf cancellationToken)).AsTask()

        /// Values of many keys in one round trip, paired with their keys, in the order asked.
        member client.TryGetManyAsync(keys: string seq, ?cancellationToken: CancellationToken) : Task<(string * string option) list> =
            task {
                let keys = Array.ofSeq keys
                let! values = client.MultiGetStringsAsync(keys, tokenOf cancellationToken)
                return [ for i in 0 .. keys.Length - 1 -> keys[i], Option.ofObj values[i] ]
            }

        /// Sets many keys as one write (one sequence, applied together on each node).
        member client.SetManyAsync(pairs: (string * string) seq, ?writeConcern: WriteConcern, ?cancellationToken: CancellationToken) : Task =
            let pairs = [| for key, value in pairs -> KeyValuePair(key, value) |]
            client.MultiSetStringsAsync(pairs, Option.toNullable writeConcern, tokenOf cancellationToken)

        /// Calls `action` for each key under the prefix as the router streams them, without holding them all.
        member client.IterKeysAsync(prefix: string, action: string -> unit, ?cancellationToken: CancellationToken) : Task =
            let token = tokenOf cancellationToken
            task {
                // Disposed by hand: `use` of an IAsyncDisposable needs a newer FSharp.Core than dotnet fsi carries.
                let keys = client.ListKeyStringsAsync(prefix, token).GetAsyncEnumerator(token)
                let mutable failure : exn option = None
                try
                    let mutable more = true
                    while more do
                        let! next = keys.MoveNextAsync()
                        if next then action keys.Current else more <- false
                with error ->
                    failure <- Some error
                do! keys.DisposeAsync()
                failure |> Option.iter (fun error -> ExceptionDispatchInfo.Throw error)
            }

        /// Every key under the prefix (all keys when empty), read to the end of the router's stream.
        member client.KeysAsync(prefix: string, ?cancellationToken: CancellationToken) : Task<string list> =
            task {
                let keys = ResizeArray<string>()
                do! client.IterKeysAsync(prefix, keys.Add, tokenOf cancellationToken)
                return List.ofSeq keys
            }
