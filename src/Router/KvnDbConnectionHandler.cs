using System.Buffers;
using System.IO.Pipelines;
using KvnDb.Protocol;
using KvnDb.Router.Connections;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router;

/// <summary>
/// Kestrel connection middleware for the native protocol: the hello handshake (version,
/// password, role), then the connection becomes a <see cref="ClientSession"/> or a <see cref="NodeLink"/>.
/// </summary>
internal sealed partial class KvnDbConnectionHandler(Cluster cluster, ClientRegistry clients, ILogger<KvnDbConnectionHandler> logger) : ConnectionHandler
{
    private static long s_nextConnectionId;
    private readonly PasswordVerifier _clientPassword = new(cluster.Options.Password);
    private readonly PasswordVerifier _nodePassword = new(cluster.NodeSecret);

    /// <summary>Connections waiting out an auth-failure delay now; past <see cref="MaxDelayed"/> a refusal is sent at once.</summary>
    private static int s_delayed;

    /// <summary>
    /// Bound on connections held in the auth-failure delay. Each holds no budget place and reads nothing more
    /// (its input is completed), so it costs a socket and a timer; past this many a refusal goes out at once.
    /// </summary>
    public const int MaxDelayed = 10_000;

    /// <summary>How long a connection let in on the node reserve has to say its hello (a node says it at once).</summary>
    public static readonly TimeSpan ReserveHandshakeTimeout = TimeSpan.FromSeconds(1);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        cluster.Stats.ConnectionAccepted();
        var id = Interlocked.Increment(ref s_nextConnectionId);
        var remote = connection.RemoteEndPoint?.ToString() ?? "?";
        var input = connection.Transport.Input;
        var output = new OutputChannel(connection.Transport.Output, () =>
        {
            LogOutputLimit(remote, cluster.Options.OutputLimitBytes);
            connection.Abort(new ConnectionAbortedException("output limit exceeded"));
        }, Math.Max(0, cluster.Options.OutputLimitBytes - cluster.Options.EffectiveOutputPause), cluster.Stats, canCancelFlush: !cluster.Options.UsesTls);
        // The connection's end, or the router's: a stopping router ends every session and node link at once.
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, cluster.Stopping);
        var closed = lifetime.Token;
        var ticket = connection.Features.Get<ConnectionTicket>();

        var hello = await ReadHelloAsync(input, output, remote, ticket, closed).ConfigureAwait(false);
        if (hello is not { } accepted)
        {
            output.Flush();
            return;
        }
        if (cluster.Options.Group is { IsActive: false } standby)
        {
            // A standby of a router group: the leader takes clients and nodes (an empty address: none is known yet).
            output.WriteError(Opcode.Hello, accepted.RequestId, StatusCode.NotLeader, standby.Leader);
            output.Flush();
            return;
        }
        if (ticket is { IsReserve: true } && accepted.Role != ConnectionRole.Node)
        {
            // Let in on the room kept for nodes: a client here would take a node's place.
            output.WriteError(Opcode.Hello, accepted.RequestId, StatusCode.Busy, $"the router holds its limit of {cluster.Options.MaxConnections} client connections");
            output.Flush();
            return;
        }

        if (accepted.Role == ConnectionRole.Node)
        {
            ticket?.BecomeNode();
            if (cluster.GroupNamed(accepted.GroupName) is not { } group)
            {
                // A node of a group this router does not route to would hold keys no request reaches: refused, and it exits.
                output.WriteError(Opcode.Hello, accepted.RequestId, StatusCode.NotAuthorized,
                    $"this router has no group '{accepted.GroupName}' (its groups: {string.Join(", ", cluster.Groups.Select(g => g.Name))}); " +
                    "start the node with one of them (--group), or the router with it in --groups");
                LogUnknownGroup(remote, accepted.GroupName);
                output.Flush();
                return;
            }
            // A node without an identity (Guid.Empty) gets one for this link only: it can never be in sync across links.
            var nodeId = accepted.NodeId == Guid.Empty ? Guid.NewGuid() : accepted.NodeId;
            var node = new NodeLink(cluster.Membership.NumberFor(nodeId), nodeId, remote,
                new HelloClaims(accepted.HistoryId, accepted.LastSequence, accepted.Flags, accepted.MaxRecord),
                reason => connection.Abort(new ConnectionAbortedException(reason)))
            {
                Name = accepted.NodeName,
                Group = group,
            };
            if (node.Name.Length > 0)
                LogNodeName(node.Id, node.Name, remote);
            // Its limit bounds writes from now on, before it can be sent any: a write is stored by every node or none.
            cluster.RecordLimit.NodeConnected(node);
            try
            {
                await RunNodeAsync(node, accepted.RequestId, connection, input, output, closed).ConfigureAwait(false);
            }
            finally
            {
                cluster.RecordLimit.NodeDisconnected(node);
            }
            return;
        }

        // A client that asked (its hello's max record field) also learns the flow limits; an older one gets the short reply it reads.
        var limits = accepted.MaxRecord >= (long)HelloRequest.ClientReadsLimits
            ? new HelloLimits(cluster.Options.MaxFrameSize - ClientSession.ForwardingHeadroom, cluster.Options.MaxInFlightPerClient, cluster.Options.OutputLimitBytes)
            : (HelloLimits?)null;
        output.Write((id, accepted.RequestId, cluster.Options, limits), static (w, s) =>
            new HelloResponse(ProtocolLimits.Version, (ulong)s.id, s.Options.MaxFrameSize, s.Options.MaxKeySize, s.limits).Write(w, s.RequestId));
        output.Flush();
        cluster.Stats.ClientConnected();
        LogClientConnected(id, remote);
        var session = new ClientSession(id, remote, output, cluster, () => connection.Abort(new ConnectionAbortedException("idle timeout")));
        clients.Add(session);
        try
        {
            await session.RunAsync(input, closed).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ConnectionResetException)
        {
            // Client went away mid-read (its in-flight requests finish and their replies are dropped), or the router stops.
        }
        finally
        {
            clients.Remove(session);
            cluster.Stats.ClientDisconnected();
            LogClientDisconnected(id, remote);
        }
    }

    private async Task RunNodeAsync(NodeLink node, ulong requestId, ConnectionContext connection, PipeReader input, OutputChannel output, CancellationToken closed)
    {
        // The hello is answered at once; the join (SyncBegin) may wait for the router to adopt a source of truth.
        // In a group the reply names the term this router leads: a node that has followed a later term refuses it (fencing).
        var identity = cluster.Options.Group is { } group ? new RouterIdentity((ulong)group.Term, group.Self) : (RouterIdentity?)null;
        output.Write((node.Id, requestId, cluster.Options, identity), static (w, s) =>
            new HelloResponse(ProtocolLimits.Version, (ulong)s.Id, s.Options.MaxFrameSize, s.Options.MaxKeySize, Router: s.identity).Write(w, s.requestId));
        output.Flush();
        var keepAlive = () =>
        {
            output.Write(0, static (w, _) => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, SyncMessages.ControlIdBit)));
            output.Flush();
        };
        try
        {
            if (!await cluster.JoinAsync(node, connection.Transport.Output, keepAlive, closed).ConfigureAwait(false))
            {
                output.WriteError(Opcode.Hello, requestId, StatusCode.Busy, $"the router already has {NodeTable.MaxNodes} nodes");
                output.Flush();
                return;
            }
        }
        catch (OperationCanceledException)
        {
            // The node went away while the router waited to adopt a source of truth, or the router stops.
            if (cluster.Stopping.IsCancellationRequested)
                SayStopping(output);
            await cluster.OnNodeLinkClosedAsync(node).ConfigureAwait(false);
            return;
        }
        await node.RunAsync(input, cluster, closed).ConfigureAwait(false);
    }

    /// <summary>A client (or a node still waiting to join) hears that the router stops, rather than a bare close.</summary>
    private static void SayStopping(OutputChannel output)
    {
        output.Write(0, static (writer, _) => ClosingNotice.Write(writer, StatusCode.Unavailable, "the router is stopping"));
        output.Flush();
    }

    /// <summary>What a hello carried that outlives its frame.</summary>
    private readonly record struct AcceptedHello(ConnectionRole Role, ulong LastSequence, Guid HistoryId, Guid NodeId, NodeHelloFlags Flags, long MaxRecord, ulong RequestId, string NodeName,
        string GroupName);

    /// <summary>Reads and checks the hello; on refusal writes the reason and returns null.</summary>
    private async Task<AcceptedHello?> ReadHelloAsync(PipeReader input, OutputChannel output, string remote, ConnectionTicket? ticket, CancellationToken closed)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closed);
        // A place kept for nodes is held only as long as a node needs to say its hello: a silent connection there is cut soon.
        timeout.CancelAfter(ticket is { IsReserve: true } && ReserveHandshakeTimeout < cluster.Options.HandshakeTimeout
            ? ReserveHandshakeTimeout : cluster.Options.HandshakeTimeout);
        try
        {
            var hello = new HelloReader(this, remote);
            // A hello is small: a header claiming more is refused from the header, before any of its body is buffered, so an
            // unauthenticated peer costs the router at most one hello and what one read brings.
            var exit = await FrameLoop.RunAsync(input, hello, HelloRequest.MaxBodySize, timeout.Token).ConfigureAwait(false);
            if (exit is not (FrameLoopExit.Stopped or FrameLoopExit.TooLarge))
                return null; // closed before a whole first frame
            var header = hello.Header;
            if (exit == FrameLoopExit.TooLarge || header.Opcode != Opcode.Hello)
            {
                output.WriteError(header.Opcode, header.RequestId, StatusCode.NotAuthorized, exit == FrameLoopExit.TooLarge && header.Opcode == Opcode.Hello
                    ? $"a hello body is at most {HelloRequest.MaxBodySize} bytes (this one claims {(uint)header.BodyLength})"
                    : "the first frame must be a hello");
                LogBadHandshake(remote, header.Opcode);
                return null;
            }
            if (hello.Verdict == StatusCode.Ok)
                return hello.Accepted;
            if (hello.Verdict == StatusCode.AuthFailed)
            {
                cluster.Stats.AuthFailure();
                LogAuthFailed(remote, hello.Accepted.Role);
                await WaitOutAuthFailureAsync(input, ticket, closed).ConfigureAwait(false);
            }
            output.WriteError(Opcode.Hello, header.RequestId, hello.Verdict, hello.Message!);
            return null;
        }
        catch (OperationCanceledException)
        {
            LogHandshakeTimeout(remote);
            return null;
        }
    }

    /// <summary>
    /// A wrong password costs its connection a delay (the original slept 3 s) and nobody else anything: while it waits
    /// the connection holds no place in the connection budget and reads nothing more (its input is completed, so the
    /// transport stops buffering for it). Past <see cref="MaxDelayed"/> waiting at once, the refusal goes out at once.
    /// </summary>
    private async Task WaitOutAuthFailureAsync(PipeReader input, ConnectionTicket? ticket, CancellationToken closed)
    {
        ticket?.Release();
        await input.CompleteAsync().ConfigureAwait(false);
        if (Interlocked.Increment(ref s_delayed) > MaxDelayed)
        {
            Interlocked.Decrement(ref s_delayed);
            return;
        }
        try
        {
            await Task.Delay(cluster.Options.AuthFailureDelay, closed).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            Interlocked.Decrement(ref s_delayed);
        }
    }

    /// <summary>Reads the first frame and, if it is a hello, checks it in place (the password never leaves the pipe's buffer).</summary>
    private sealed class HelloReader(KvnDbConnectionHandler owner, string remote) : IFrameHandler
    {
        public FrameHeader Header { get; private set; }

        public StatusCode Verdict { get; private set; } = StatusCode.NotAuthorized;

        public AcceptedHello Accepted { get; private set; }

        public string? Message { get; private set; }

        public FrameAction OnFrame(in FrameHeader header, in ReadOnlySequence<byte> frame)
        {
            Header = header;
            if (header.Opcode == Opcode.Hello)
            {
                Verdict = owner.Check(header, frame, remote, out var accepted, out var message);
                (Accepted, Message) = (accepted, message);
            }
            return FrameAction.Stop;
        }

        public ValueTask OnFrameAsync(FrameHeader header, ReadOnlySequence<byte> frame, CancellationToken cancellationToken) => default;

        public ValueTask OnBatchEndAsync(CancellationToken cancellationToken) => default;

        public ValueTask OnPausedAsync(CancellationToken cancellationToken) => default;

        public void OnFrameTooLarge(in FrameHeader header) => Header = header;
    }

    private StatusCode Check(in FrameHeader header, in ReadOnlySequence<byte> frame, string remote, out AcceptedHello accepted, out string? message)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        accepted = default;
        message = null;
        // The version first: another version's hello may have another layout, and deserves VersionMismatch.
        if (HelloRequest.TryReadVersion(body.Span, out var version) && version != ProtocolLimits.Version)
        {
            message = $"protocol version mismatch: router speaks {ProtocolLimits.Version}, peer sent {version}";
            return StatusCode.VersionMismatch;
        }
        if (!HelloRequest.TryRead(body.Span, out var hello))
        {
            message = "malformed hello";
            return StatusCode.ProtocolError;
        }
        if (hello.Role == ConnectionRole.Node && hello.MaxRecord == 0)
        {
            message = "a node must announce the largest record (key + value) it can store";
            return StatusCode.ProtocolError;
        }
        accepted = new AcceptedHello(hello.Role, hello.LastSequence, hello.HistoryId, hello.NodeId, hello.Flags,
            (long)Math.Min(hello.MaxRecord, (ulong)long.MaxValue), header.RequestId,
            hello.NodeName.IsEmpty ? "" : HelloRequest.CleanNodeName(System.Text.Encoding.UTF8.GetString(hello.NodeName)),
            // A name longer than any valid one is never decoded: "?" is refused below as not a group name.
            hello.GroupName.IsEmpty ? HelloRequest.DefaultGroup
            : hello.GroupName.Length > HelloRequest.MaxGroupNameBytes ? "?" : System.Text.Encoding.UTF8.GetString(hello.GroupName));
        var verifier = hello.Role == ConnectionRole.Node ? _nodePassword : _clientPassword;
        if (!verifier.Verify(hello.Password))
        {
            if (hello.Role == ConnectionRole.Node && cluster.Options.Password.Length > 0 && _clientPassword.Verify(hello.Password))
            {
                // Someone holding a client credential tried to become a replica: it would see every write and answer reads.
                LogClientCredentialAsNode(remote);
                message = "a client password cannot register a node: nodes need the router's --node-password";
            }
            else
            {
                message = hello.Role != ConnectionRole.Node ? "wrong password"
                    : CredentialPolicy.AcceptsExternalNodes(cluster.Options) ? "wrong node password"
                    : "this router accepts only its embedded nodes: start it with --node-password to let nodes join";
            }
            return StatusCode.AuthFailed;
        }
        if (hello.Role == ConnectionRole.Node && !HelloRequest.IsValidGroupName(accepted.GroupName))
        {
            message = $"a group name is 1 to {HelloRequest.MaxGroupNameBytes} ASCII letters, digits, '-', '_' or '.'";
            return StatusCode.ProtocolError;
        }
        return StatusCode.Ok;
    }

    [LoggerMessage(40, LogLevel.Warning, "Refused a node from {Address}: it names group '{Group}', which this router does not have")]
    private partial void LogUnknownGroup(string address, string group);

    [LoggerMessage(39, LogLevel.Information, "Node {Number} is {Name} ({Address})")]
    private partial void LogNodeName(int number, string name, string address);

    [LoggerMessage(30, LogLevel.Debug, "Client {ConnectionId} connected from {Address}")]
    private partial void LogClientConnected(long connectionId, string address);

    [LoggerMessage(31, LogLevel.Debug, "Client {ConnectionId} ({Address}) disconnected")]
    private partial void LogClientDisconnected(long connectionId, string address);

    [LoggerMessage(32, LogLevel.Warning, "Authentication failed for a {Role} from {Address}")]
    private partial void LogAuthFailed(string address, ConnectionRole role);

    [LoggerMessage(36, LogLevel.Warning, "Refused a node hello from {Address} that presented the CLIENT password: a client credential cannot register a node")]
    private partial void LogClientCredentialAsNode(string address);

    [LoggerMessage(33, LogLevel.Warning, "Connection from {Address} sent {Opcode} before hello; closed")]
    private partial void LogBadHandshake(string address, Opcode opcode);

    [LoggerMessage(35, LogLevel.Warning, "Connection from {Address} left more than {Limit} bytes of output unread; disconnected")]
    private partial void LogOutputLimit(string address, long limit);

    [LoggerMessage(34, LogLevel.Warning, "Connection from {Address} did not complete its hello in time; closed")]
    private partial void LogHandshakeTimeout(string address);
}
