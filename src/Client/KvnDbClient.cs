using System.Runtime.CompilerServices;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>
/// A connection to a KvnDb router. Thread-safe: share one instance between any number of concurrent
/// callers; their requests are pipelined on one socket and answered out of order. A missing key
/// is <c>null</c> (or <c>false</c>), never an exception; failures are <see cref="KvnDbException"/>s.
/// The client pings an idle connection and treats a router that stays silent past
/// <see cref="KvnDbClientOptions.RouterTimeout"/> (or too many timeouts in a row) as gone. When the
/// connection drops, requests in flight fail, the client reconnects in the background with capped,
/// jittered backoff, and calls fail at once with <see cref="KvnDbConnectionException"/> until it is back.
/// </summary>
public sealed partial class KvnDbClient : IAsyncDisposable
{
    private readonly Lock _stateLock = new();
    private readonly CancellationTokenSource _closing = new();
    private volatile ClientConnection? _connection;
    private TaskCompletionSource _connected = NewSignal();
    private Task _reconnect = Task.CompletedTask;
    private bool _reconnecting;
    private bool _disposed;
    private int _connectionCount;

    private KvnDbClient(KvnDbClientOptions options)
    {
        Options = options;
        _routers = new RouterDirectory(options);
    }

    private readonly RouterDirectory _routers;

    public KvnDbClientOptions Options { get; }

    /// <summary>The router of the current connection (<c>host:port</c>): in a router group, the leader it found.</summary>
    public string Router => _connection?.Router ?? new KvnDb.Protocol.RouterAddress(Options.Host, Options.Port).ToString();

    /// <summary>True while the client holds a live connection; false while it reconnects.</summary>
    public bool IsConnected => _connection is { IsAlive: true };

    /// <summary>The limits the router announced when the current connection was made (null before the first).</summary>
    public RouterLimits? Limits => _connection?.Limits;

    /// <summary>Connections made so far, the first included (a reconnect adds one).</summary>
    internal int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <summary>Connects and authenticates; throws <see cref="KvnDbAuthenticationException"/> or <see cref="KvnDbVersionMismatchException"/> when refused.</summary>
    public static async Task<KvnDbClient> ConnectAsync(KvnDbClientOptions options, CancellationToken cancellationToken = default)
    {
        var client = new KvnDbClient(options);
        var connection = await client._routers.ConnectAsync(client.OnConnectionDead, cancellationToken).ConfigureAwait(false);
        if (!client.Adopt(connection))
            client.OnConnectionDead(connection); // died before it was ours: its own call was ignored
        return client;
    }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> with default options.</summary>
    public static Task<KvnDbClient> ConnectAsync(string host, int port, string password = "", CancellationToken cancellationToken = default) =>
        ConnectAsync(new KvnDbClientOptions { Host = host, Port = port, Password = password }, cancellationToken);

    /// <summary>Completes when the client holds a live connection (at once if it does).</summary>
    internal Task WaitUntilConnectedAsync()
    {
        lock (_stateLock)
        {
            if (IsConnected)
                return Task.CompletedTask;
            // Dead, but its death may not have reached OnConnectionDead yet: wait for the next connection.
            if (_connected.Task.IsCompleted)
                _connected = NewSignal();
            return _connected.Task;
        }
    }

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
        // Asked with More: values past the router's frame limit come in several frames, put together in order.
        var multiGet = await LiveConnection().SendMultiGetAsync(new MultiKeyBody(keys), keys.Count, cancellationToken).ConfigureAwait(false);
        return await multiGet.Values.WaitAsync(cancellationToken).ConfigureAwait(false);
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
        var stream = await LiveConnection().SendListKeysAsync(new BytesKeyBody(prefix), cancellationToken).ConfigureAwait(false);
        await foreach (var key in stream.Keys.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            yield return key;
    }

    // ---- server ----

    /// <summary>
    /// Every request the router receives from any client (its opcode, first key, size, client), as it
    /// receives it, until <paramref name="cancellationToken"/> is cancelled or the connection drops. The first
    /// event is <see cref="MonitorEventKind.Started"/>; a monitor that falls behind gets a
    /// <see cref="MonitorEventKind.Dropped"/> notice instead of the events it missed.
    /// </summary>
    public async IAsyncEnumerable<MonitorEvent> MonitorAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var connection = LiveConnection();
        var stream = connection.SendMonitor();
        try
        {
            await foreach (var monitorEvent in stream.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return monitorEvent;
        }
        finally
        {
            connection.StopMonitor(stream);
        }
    }

    /// <summary>Round trip to the router; returns the time it took.</summary>
    public async ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        (await RequestAsync(Opcode.Ping, FrameFlags.None, new EmptyBody(), cancellationToken).ConfigureAwait(false)).ThrowIfError();
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    /// <summary>
    /// Starts an online migration of <paramref name="count"/> slots from replica group <paramref name="from"/> to
    /// <paramref name="to"/> (<c>kvndb slots move</c>); returns the router's line saying which slots move, once the
    /// migration is recorded durably. It goes on after the reply: <c>info</c>'s <c>migration</c> line follows it.
    /// </summary>
    public async Task<string> MoveSlotsAsync(string from, string to, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var body = new byte[SlotControlRequest.BodyLength(Encoding.ASCII.GetByteCount(from), Encoding.ASCII.GetByteCount(to))];
        SlotControlRequest.WriteBody(body, SlotControlAction.Move, from, to, count);
        var reply = await RequestAsync(Opcode.SlotControl, FrameFlags.None, new RawBody(body), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        return reply.Body is null ? "" : Encoding.UTF8.GetString(reply.Body);
    }

    /// <summary>
    /// Adds the empty replica group <paramref name="name"/> to the running router (<c>kvndb groups add</c>); returns the
    /// router's line once the group is durable in its metadata. Nodes then join it (<c>kvndb-node --group NAME</c>) and
    /// <see cref="MoveSlotsAsync"/> gives it slots.
    /// </summary>
    public async Task<string> AddGroupAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var body = new byte[GroupControlRequest.BodyLength(Encoding.ASCII.GetByteCount(name))];
        GroupControlRequest.WriteBody(body, GroupControlAction.Add, name);
        var reply = await RequestAsync(Opcode.GroupControl, FrameFlags.None, new RawBody(body), cancellationToken).ConfigureAwait(false);
        reply.ThrowIfError();
        return reply.Body is null ? "" : Encoding.UTF8.GetString(reply.Body);
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

    private static bool Found(in Reply reply)
    {
        reply.ThrowIfError();
        return reply.Status == StatusCode.Ok;
    }

    private ValueTask<Reply> RequestAsync<TBody>(Opcode opcode, FrameFlags flags, TBody body, CancellationToken cancellationToken)
        where TBody : struct, IRequestBody =>
        LiveConnection().SendAsync(opcode, flags, body, cancellationToken);

    /// <summary>The live connection, or a fast failure while the client reconnects.</summary>
    private ClientConnection LiveConnection()
    {
        var connection = _connection;
        if (connection is { IsAlive: true })
            return connection;
        ObjectDisposedException.ThrowIf(_disposed, this);
        throw new KvnDbConnectionException(
            $"not connected to {Options.Host}:{Options.Port} (reconnecting in the background): {connection?.Failure?.Message ?? "no connection yet"}",
            connection?.Failure);
    }

    /// <summary>Publishes a new connection, or goes on reconnecting if it died before it could be published.</summary>
    private bool Adopt(ClientConnection connection)
    {
        lock (_stateLock)
        {
            _connection = connection;
            Interlocked.Increment(ref _connectionCount);
            if (!connection.IsAlive)
                return false; // its death was ignored (not yet ours); the caller tries again
            _reconnecting = false;
            _connected.TrySetResult();
            return true;
        }
    }

    /// <summary>Called once by a connection that died (from its read loop or its timer): start reconnecting.</summary>
    private void OnConnectionDead(ClientConnection dead)
    {
        lock (_stateLock)
        {
            if (_disposed || _reconnecting || dead != _connection)
                return;
            _reconnecting = true;
            if (_connected.Task.IsCompleted)
                _connected = NewSignal();
            _reconnect = Task.Run(() => ReconnectAsync(dead));
        }
    }

    /// <summary>The background reconnect: first attempt at once, then capped exponential backoff with jitter. Never throws.</summary>
    private async Task ReconnectAsync(ClientConnection dead)
    {
        try
        {
            await dead.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // Closing what is already broken; nothing to tell anyone.
        }
        var delay = TimeSpan.Zero;
        while (true)
        {
            try
            {
                if (delay > TimeSpan.Zero)
                    await Task.Delay(delay * (0.5 + Random.Shared.NextDouble() * 0.5), _closing.Token).ConfigureAwait(false);
                var connection = await _routers.ConnectAsync(OnConnectionDead, _closing.Token).ConfigureAwait(false);
                lock (_stateLock)
                {
                    if (_disposed)
                    {
                        _connection = connection; // DisposeAsync closes it after this task ends
                        return;
                    }
                }
                if (Adopt(connection))
                    return;
                delay = TimeSpan.Zero;
            }
            catch (OperationCanceledException) when (_closing.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Refused, unreachable, or anything else: this loop is the only thing that brings the client
                // back, so it never dies of one attempt. Calls fail fast meanwhile. A standby of a router group answered
                // (its group is electing a leader): ask again soon rather than back off the election away.
                delay = delay == TimeSpan.Zero || ex.InnerException is KvnDbNotLeaderException
                    ? Options.ReconnectMinDelay
                    : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Options.ReconnectMaxDelay.Ticks));
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        Task reconnect;
        lock (_stateLock)
        {
            if (_disposed)
                return;
            _disposed = true;
            reconnect = _reconnect;
        }
        await _closing.CancelAsync().ConfigureAwait(false);
        await reconnect.ConfigureAwait(false);
        var connection = _connection;
        _connection = null;
        if (connection is not null)
            await connection.DisposeAsync().ConfigureAwait(false);
        _connected.TrySetCanceled(); // a cancelled task is never an unobserved exception
        _closing.Dispose();
    }
}
