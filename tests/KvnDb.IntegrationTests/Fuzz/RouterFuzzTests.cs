using System.Buffers;
using System.Diagnostics;
using CsCheck;
using KvnDb.Client;
using KvnDb.Fuzzing;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests.Fuzz;

/// <summary>
/// A real router with two nodes on loopback, attacked by many raw connections sending random and
/// mutated frames (after a valid hello, and instead of one), while a well-behaved client checks
/// every answer it gets. The router must keep serving, answer or close every hostile connection,
/// never leak a reply to another connection, and not allocate what the frames merely claim.
/// </summary>
[Collection(FuzzCollection.Name)]
public sealed class RouterFuzzTests
{
    /// <summary>
    /// Allocation allowed for the whole run (router, nodes, the good client and the test itself), per
    /// byte sent plus a constant. A frame claiming up to 64 MiB is accepted and awaits its body, so a
    /// router allocating what is claimed would pass this within a few such frames.
    /// </summary>
    private const int AllocatedPerByteSent = 200;
    private const long AllocatedConstant = 512L * 1024 * 1024;
    private const long WorkingSetGrowthLimit = 512L * 1024 * 1024;

    private static readonly Gen<(bool HelloFirst, FuzzInput Input)> Connections =
        Gen.Select(Gen.Bool, FrameGen.Input(FrameGen.ClientOpcodes, nodeView: false));

    [Fact]
    public async Task Router_survives_fuzzed_connections_and_a_good_client_keeps_correct_answers()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions
        {
            // Fuzzed hellos may claim the node role: with a node password they cannot join as nodes.
            NodePassword = "node-secret",
            AuthFailureDelay = TimeSpan.FromMilliseconds(20),
        });
        var port = cluster.Router.Port;
        await using var good = await cluster.ConnectAsync();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var workingSetBefore = Process.GetCurrentProcess().WorkingSet64;
        long bytesSent = 0;
        var connections = 0;

        using var stop = new CancellationTokenSource();
        var goodClient = GoodClientAsync(good, stop.Token);

        await Task.Run(() => Check.SampleAsync(Connections, async (helloFirst, input) =>
        {
            var received = await FuzzConnection.RunAsync(port, helloFirst, input);
            Interlocked.Add(ref bytesSent, input.Bytes.Length);
            Interlocked.Increment(ref connections);
            CheckReplies(helloFirst, input, received);
        }, iter: FuzzRun.Iter(1500), threads: 8)).WaitAsync(FuzzRun.HangTimeout);

        await stop.CancelAsync();
        var goodOperations = await goodClient.WaitAsync(TestCluster.Timeout);

        GC.Collect();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var workingSetGrowth = Process.GetCurrentProcess().WorkingSet64 - workingSetBefore;

        // The router still serves: both nodes, a new client, and replicas that agree key for key.
        Assert.Equal(2, cluster.Router.ServingNodeCount);
        await using var late = await cluster.ConnectAsync();
        await late.PingAsync().AsTask().WaitAsync(TestCluster.Timeout);
        var digests = await late.DigestAsync().WaitAsync(TestCluster.Timeout);
        Assert.Equal(2, digests.Count);
        Assert.Equal(digests[0].Digest, digests[1].Digest);

        Assert.True(goodOperations > 0, "the good client made no progress");
        var budget = AllocatedPerByteSent * bytesSent + AllocatedConstant;
        Assert.True(allocated <= budget,
            $"{allocated / 1024 / 1024} MiB allocated for {connections} fuzzed connections sending {bytesSent} bytes (budget {budget / 1024 / 1024} MiB)");
        Assert.True(workingSetGrowth <= WorkingSetGrowthLimit, $"working set grew by {workingSetGrowth / 1024 / 1024} MiB");
        Console.WriteLine($"fuzz: {connections} connections, {bytesSent} bytes sent, {goodOperations} good operations, " +
            $"{allocated / 1024 / 1024} MiB allocated, working set {workingSetGrowth / 1024 / 1024:+#;-#;0} MiB");
    }

    [Fact]
    public async Task Bodies_claimed_but_not_sent_are_never_allocated()
    {
        const int connections = 100;
        const int sentBody = 4096;
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var good = await cluster.ConnectAsync();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var sockets = new List<System.Net.Sockets.Socket>();
        try
        {
            // Each connection claims a Set of the largest allowed body (64 MiB) and sends only its first 4 KiB.
            var claimed = new byte[ProtocolLimits.HeaderSize + sentBody];
            new FrameHeader(ProtocolLimits.DefaultMaxFrameSize, Opcode.Set, FrameFlags.None, StatusCode.Ok, 7).Write(claimed);
            for (var i = 0; i < connections; i++)
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                sockets.Add(socket);
                await socket.ConnectAsync("127.0.0.1", cluster.Router.Port).WaitAsync(TestCluster.Timeout);
                await socket.SendAsync(FuzzConnection.Hello().AsMemory()).AsTask().WaitAsync(TestCluster.Timeout);
                await socket.SendAsync(claimed.AsMemory()).AsTask().WaitAsync(TestCluster.Timeout);
            }

            // While they all wait for their bodies, the good client is served and the router has not reserved the claims.
            for (var i = 0; i < 20; i++)
            {
                await good.SetAsync($"good/claims/{i}", $"v{i}").AsTask().WaitAsync(TestCluster.Timeout);
                Assert.Equal($"v{i}", await good.GetStringAsync($"good/claims/{i}").AsTask().WaitAsync(TestCluster.Timeout));
            }
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var claimedTotal = (long)connections * ProtocolLimits.DefaultMaxFrameSize;
            Assert.True(allocated < claimedTotal / 50,
                $"{allocated / 1024 / 1024} MiB allocated while {connections} connections claimed {claimedTotal / 1024 / 1024} MiB and sent {connections * sentBody / 1024} KiB");
            Console.WriteLine($"claims: {allocated / 1024} KiB allocated for {claimedTotal / 1024 / 1024} MiB claimed");
        }
        finally
        {
            foreach (var socket in sockets)
                socket.Dispose();
        }
        Assert.Equal(2, cluster.Router.ServingNodeCount);
    }

    /// <summary>
    /// Well-framed requests with fuzzed flags and bodies (valid, malformed, NoReply, odd write concerns,
    /// node-only opcodes), pipelined far past the per-connection in-flight limit: every path must
    /// release its in-flight slot, or the session stops reading and the final ping is never answered.
    /// </summary>
    [Fact]
    public async Task In_flight_accounting_survives_a_long_fuzzed_pipeline()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { MaxInFlightPerClient = 16, MaxPendingRequests = 8 });
        Opcode[] opcodes = [.. FrameGen.ClientOpcodes, Opcode.Hello, Opcode.SyncBegin, Opcode.SnapshotApply];
        var frames = Gen.Select(Gen.OneOf(opcodes), FrameGen.MutatedBody(FrameGen.ClientOpcodes, nodeView: false), Gen.Byte, Gen.UInt,
            (opcode, body, flags, id) => FrameGen.Encode(opcode, (FrameFlags)flags, id, body)).Array[2000];

        await Task.Run(() => Check.SampleAsync(frames, async batch =>
        {
            const ulong pingId = ulong.MaxValue;
            using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
            await raw.SendHelloAsync();
            Assert.Equal(StatusCode.Ok, (await raw.ReadFrameAsync())!.Value.Header.Status);
            var sending = Task.Run(async () =>
            {
                foreach (var chunk in batch.Chunk(100))
                    await raw.SendAsync(chunk.SelectMany(f => f).ToArray());
                await raw.SendAsync(FrameGen.Encode(Opcode.Ping, FrameFlags.None, pingId, []));
            });
            while (true)
            {
                var reply = await raw.ReadFrameAsync();
                Assert.True(reply is not null, "the router closed a connection that sent only known opcodes");
                if (reply!.Value.Header.RequestId == pingId && reply.Value.Header.Opcode == Opcode.Ping)
                    break;
            }
            await sending.WaitAsync(TestCluster.Timeout);
        }, iter: FuzzRun.Iter(4), threads: 1)).WaitAsync(FuzzRun.HangTimeout);
        Assert.Equal(2, cluster.Router.ServingNodeCount);
    }

    /// <summary>What the router sent back must be whole response frames, each answering a request id this connection sent.</summary>
    private static void CheckReplies(bool helloFirst, FuzzInput input, byte[] received)
    {
        var sent = helloFirst ? [.. FuzzConnection.Hello(), .. input.Bytes] : input.Bytes;
        var ids = FuzzConnection.RequestIds(sent);
        var replies = new ReadOnlySequence<byte>(received);
        var first = true;
        while (replies.Length > 0)
        {
            var status = FrameReader.TryRead(ref replies, int.MaxValue, out var reply, out _);
            Assert.True(status == FrameReadStatus.Complete, $"the router sent a partial frame to {input}");
            Assert.True(reply.IsResponse, $"a non-response frame went to {input}");
            Assert.True(Enum.IsDefined(reply.Status), $"undefined status {reply.Status} sent to {input}");
            Assert.True(ids.Contains(reply.RequestId), $"reply with id {reply.RequestId} that {input} never sent");
            if (first && helloFirst)
                Assert.Equal((Opcode.Hello, StatusCode.Ok), (reply.Opcode, reply.Status));
            first = false;
        }
    }

    /// <summary>Sets and reads back its own keys until stopped; any wrong answer fails the test.</summary>
    private static async Task<long> GoodClientAsync(KvnDbClient client, CancellationToken stop)
    {
        var prefix = $"good/{Guid.NewGuid():N}/";
        var expected = new Dictionary<string, string>();
        long operations = 0;
        while (!stop.IsCancellationRequested)
        {
            var key = prefix + (operations % 32);
            var value = $"value {operations} {Random.Shared.Next()}";
            // An operation in flight must finish and be right; stop is checked between operations.
            await client.SetAsync(key, value, cancellationToken: CancellationToken.None).AsTask().WaitAsync(TestCluster.Timeout, CancellationToken.None);
            expected[key] = value;
            Assert.Equal(value, await client.GetStringAsync(key, CancellationToken.None).AsTask().WaitAsync(TestCluster.Timeout, CancellationToken.None));
            if (operations % 8 == 0)
            {
                var keys = expected.Keys.ToList();
                var values = await client.MultiGetStringsAsync(keys, CancellationToken.None).WaitAsync(TestCluster.Timeout, CancellationToken.None);
                Assert.Equal(keys.Select(k => expected[k]), values);
            }
            operations++;
        }
        return operations;
    }
}
