using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>
/// Issue 16: the client library keeps the router's announced max in flight. Past it a caller waits for a slot
/// (within its request timeout) instead of sending requests the router would leave unread in the socket.
/// </summary>
public sealed class ClientInFlightLimitTests
{
    private const int Limit = 3;

    [Fact]
    public async Task Past_the_announced_limit_a_request_is_sent_only_when_an_answer_frees_a_slot()
    {
        await using var router = new FakeRouter();
        var connect = KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, RequestTimeout = TestCluster.Timeout, PingInterval = TimeSpan.FromMinutes(1), RouterTimeout = TimeSpan.FromMinutes(2) });
        var peer = await router.NextPeerAsync();
        await peer.AnswerHelloAsync(new HelloLimits(ProtocolLimits.DefaultMaxFrameSize - WriteLimits.ForwardingHeadroom, Limit, 128L << 20));
        await using var client = await connect.WaitAsync(TestCluster.Timeout);
        Assert.Equal(Limit, client.Limits!.MaxInFlight);

        var gets = Enumerable.Range(0, 10).Select(i => client.GetStringAsync($"k{i}").AsTask()).ToArray();
        var sent = new List<FrameHeader>();
        for (var i = 0; i < Limit; i++)
            sent.Add((await peer.ReadFrameAsync())!.Value.Header);
        Assert.All(sent, h => Assert.Equal(Opcode.Get, h.Opcode));

        // Whatever the client had sent would be in the socket before the answer to this ping: the next frame shows
        // that no fourth Get went out.
        await peer.SendAsync(w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, SyncMessages.ControlIdBit | 9)));
        var next = (await peer.ReadFrameAsync())!.Value.Header;
        Assert.Equal(Opcode.Ping, next.Opcode);
        Assert.True(next.IsResponse);

        // Each answer frees one slot, and one more Get goes out.
        var answered = 0;
        while (answered < gets.Length)
        {
            var request = sent[0];
            sent.RemoveAt(0);
            await peer.SendAsync(w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Get, FrameFlags.Response, StatusCode.NotFound, request.RequestId)));
            answered++;
            if (answered + sent.Count < gets.Length)
                sent.Add((await peer.ReadFrameAsync())!.Value.Header);
            Assert.True(sent.Count <= Limit);
        }
        Assert.All(await Task.WhenAll(gets).WaitAsync(TestCluster.Timeout), Assert.Null);
    }

    [Fact]
    public async Task A_request_that_finds_no_free_slot_within_its_timeout_fails_clearly_and_is_never_sent()
    {
        await using var router = new FakeRouter();
        var connect = KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, RequestTimeout = TimeSpan.FromSeconds(2), PingInterval = TimeSpan.FromMinutes(1), RouterTimeout = TimeSpan.FromMinutes(2), MaxConsecutiveTimeouts = 1000 });
        var peer = await router.NextPeerAsync();
        await peer.AnswerHelloAsync(new HelloLimits(ProtocolLimits.DefaultMaxFrameSize - WriteLimits.ForwardingHeadroom, 1, 128L << 20));
        await using var client = await connect.WaitAsync(TestCluster.Timeout);

        var first = client.GetStringAsync("never answered").AsTask();
        var waiting = await Assert.ThrowsAsync<KvnDbTimeoutException>(() => client.GetStringAsync("waits").AsTask());
        Assert.Contains("requests in flight", waiting.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KvnDbTimeoutException>(() => first);

        // The first timed out here but the router still owes its answer: its slot is free only once that arrives.
        var firstSent = (await peer.ReadFrameAsync())!.Value.Header;
        var third = client.GetStringAsync("third").AsTask();
        await peer.SendAsync(w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Get, FrameFlags.Response, StatusCode.NotFound, firstSent.RequestId)));
        var thirdSent = (await peer.ReadFrameAsync())!.Value.Header;
        Assert.Equal(Opcode.Get, thirdSent.Opcode);
        Assert.NotEqual(firstSent.RequestId, thirdSent.RequestId);
        await peer.SendAsync(w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Get, FrameFlags.Response, StatusCode.NotFound, thirdSent.RequestId)));
        Assert.Null(await third.WaitAsync(TestCluster.Timeout));
    }

    [Fact]
    public async Task Thousands_of_concurrent_callers_against_a_real_router_all_complete_within_its_limit()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { MaxInFlightPerClient = 16 });
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("k", "v");
        var values = await Task.WhenAll(Enumerable.Range(0, 3000).Select(_ => client.GetStringAsync("k").AsTask())).WaitAsync(TestCluster.Timeout);
        Assert.All(values, v => Assert.Equal("v", v));
        Assert.Equal(16, client.Limits!.MaxInFlight);
    }
}
