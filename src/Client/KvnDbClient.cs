using System.Runtime.CompilerServices;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>
/// A connection to a KvnDb router. Thread-safe: share one instance between any number of concurrent
/// callers; their requests are pipelined on one socket and answered out of order. A missing key
/// is <c>null</c> (or <c>false</c>), never an exception; failures are <see cref="KvnDbException"/>s.
/// If the connection drops, requests in flight fail and the next call reconnects.
/// </summary>
public sealed partial class KvnDbClient : IAsyncDisposable
{
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private ClientConnection? _connection;
    private bool _disposed;

    private KvnDbClient(KvnDbClientOptions options) => Options = options;

    public KvnDbClientOptions Options { get; }

    /// <summary>Connects and authenticates; throws <see cref="KvnDbAuthenticationException"/> or <see cref="KvnDbVersionMismatchException"/> when refused.</summary>
    public static async Task<KvnDbClient> ConnectAsync(KvnDbClientOptions options, CancellationToken cancellationToken = default)
    {
        var client = new KvnDbClient(options);
        client._connection = await ClientConnection.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        return client;
    }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> with default options.</summary>
    public static Task<KvnDbClient> ConnectAsync(string host, int port, string password = "", CancellationToken cancellationToken = default) =>
        ConnectAsync(new KvnDbClientOptions { Host = host, Port = port, Password = password }, cancellationToken);

    // ---- bytes ----

    /// <summary>The value of <paramref name="key"/>, or null when it does not exist.</summary>
    public async ValueTask<byte[]?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        ValueOf(await RequestAsync(Opcode.Get, FrameFlags.None, new BytesKeyBody(key), cancellationToken).ConfigureAwait(false));

    public async ValueTask SetAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        (await RequestAsync(Opcode.Set, WriteFlags(writeConcern), new BytesKeyValueBody(key, value), cancellationToken).ConfigureAwait(false)).ThrowIfError();

    /// <summary>Deletes the key; true when it existed.</summary>
    public async ValueTask<bool> DeleteAsync(ReadOnlyMemory<byte> key, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default) =>
        Found(await RequestAsync(Opcode.Delete, WriteFlags(writeConcern), new BytesKeyBody(key), cancellationToken).ConfigureAwait(false));

    public async ValueTask<bool> ExistsAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        Found(await RequestAsync(Opcode.Exists, FrameFlags.None, new BytesKeyBody(key), cancellationToken).ConfigureAwait(false));

    /// <summary>Values of many keys in one round trip, in the order asked; null for missing keys.</summary>
    public async Task<byte[]?[]> MultiGetAsync(IReadOnlyList<ReadOnlyMemory<byte>> keys, CancellationToken cancellationToken = default)
    {
        if (keys.Count == 0)
            return [];
        var reply = await RequestAsync(Opcode.MultiGet, FrameFlags.None, new MultiKeyBody(keys), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        return ValuesOf(reply.Body, keys.Count);
    }

    /// <summary>Sets many keys as one write (one sequence, applied together on each node).</summary>
    public async Task MultiSetAsync(IReadOnlyList<KeyValuePair<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>>> pairs, WriteConcern? writeConcern = null, CancellationToken cancellationToken = default)
    {
        if (pairs.Count == 0)
            return;
        (await RequestAsync(Opcode.MultiSet, WriteFlags(writeConcern), new MultiSetBody(pairs), cancellationToken).ConfigureAwait(false)).ThrowIfError();
    }

    /// <summary>Streams the keys that start with <paramref name="prefix"/> (all keys when empty), chunk by chunk.</summary>
    public async IAsyncEnumerable<byte[]> ListKeysAsync(ReadOnlyMemory<byte> prefix = default, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        var stream = connection.SendListKeys(new BytesKeyBody(prefix));
        await foreach (var key in stream.Keys.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            yield return key;
    }

    // ---- server ----

    /// <summary>Round trip to the router; returns the time it took.</summary>
    public async ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        (await RequestAsync(Opcode.Ping, FrameFlags.None, new EmptyBody(), cancellationToken).ConfigureAwait(false)).ThrowIfError();
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    /// <summary>The router's info text: version, connections, nodes and their state, counters.</summary>
    public async Task<string> InfoAsync(CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(Opcode.Info, FrameFlags.None, new EmptyBody(), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        return reply.Body is null ? "" : Encoding.UTF8.GetString(reply.Body);
    }

    /// <summary>
    /// Every connected node's key count, last sequence and content digest, all taken at the same point
    /// of the write stream: serving replicas that agree report identical digests.
    /// </summary>
    public async Task<IReadOnlyList<NodeDigestEntry>> DigestAsync(CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(Opcode.Digest, FrameFlags.None, new EmptyBody(), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        return ClusterDigest.TryRead(reply.Body, out var entries) ? entries : throw new KvnDbProtocolException("malformed digest reply");
    }

    // ---- plumbing ----

    private FrameFlags WriteFlags(WriteConcern? writeConcern) =>
        FrameFlags.None.WithWriteConcern(writeConcern ?? Options.WriteConcern);

    private static byte[]? ValueOf(in Reply reply)
    {
        reply.ThrowIfError();
        return reply.Status == StatusCode.Ok ? reply.Body ?? [] : null;
    }

    /// <summary>A multi-get reply's values in request order, null for missing keys.</summary>
    private static byte[]?[] ValuesOf(byte[]? body, int expected)
    {
        if (!MultiGetReply.TryRead(body, out var reply) || reply.Count != expected)
            throw new KvnDbProtocolException($"multi-get reply has {reply.Count} values for {expected} keys");
        var values = new byte[]?[expected];
        for (var i = 0; i < expected; i++)
        {
            if (!reply.TryReadNext(out var value, out var found))
                throw new KvnDbProtocolException("malformed multi-get reply");
            values[i] = found ? value.ToArray() : null;
        }
        return values;
    }

    private static bool Found(in Reply reply)
    {
        reply.ThrowIfError();
        return reply.Status == StatusCode.Ok;
    }

    private async ValueTask<Reply> RequestAsync<TBody>(Opcode opcode, FrameFlags flags, TBody body, CancellationToken cancellationToken)
        where TBody : struct, IRequestBody
    {
        var connection = _connection;
        if (connection is null || !connection.IsAlive)
            connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.SendAsync(opcode, flags, body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The live connection, reconnecting once (single-flight) when the previous one died.</summary>
    private async ValueTask<ClientConnection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = _connection;
        if (connection is not null && connection.IsAlive)
            return connection;
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            connection = _connection;
            if (connection is not null && connection.IsAlive)
                return connection;
            if (connection is not null)
                await connection.DisposeAsync().ConfigureAwait(false);
            _connection = connection = await ClientConnection.ConnectAsync(Options, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _connectGate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_connection is not null)
                await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
        }
        finally
        {
            _connectGate.Release();
        }
    }
}
