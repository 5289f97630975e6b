using System.Text;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>
/// Issue 16: before its hello is judged a peer can make the router buffer one hello (at most
/// <see cref="HelloRequest.MaxBodySize"/>) and what one read brings, nothing more.
/// </summary>
public sealed class PreAuthenticationTests
{
    [Theory]
    [InlineData(HelloRequest.MaxBodySize + 1)]
    [InlineData(65 * 1024)] // the old bound (max key + 1 KiB): now refused from its header too
    [InlineData(60 << 20)]
    public async Task A_hello_claiming_more_than_a_hello_holds_is_refused_from_its_header_before_its_body_arrives(int claimed)
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions { Password = "pw" });
        using var peer = await RawConnection.ConnectAsync(cluster.Router.Port);
        // Only the header: the router must answer without waiting for (or buffering) the body it claims.
        var header = new byte[ProtocolLimits.HeaderSize];
        new FrameHeader(claimed, Opcode.Hello, FrameFlags.None, StatusCode.Ok, 7).Write(header);
        await peer.SendAsync(header);

        var refusal = await peer.ReadFrameAsync();
        Assert.NotNull(refusal);
        Assert.Equal(StatusCode.NotAuthorized, refusal.Value.Header.Status);
        Assert.Equal(7UL, refusal.Value.Header.RequestId);
        Assert.Contains($"a hello body is at most {HelloRequest.MaxBodySize} bytes", refusal.Value.Body, StringComparison.Ordinal);
        Assert.True(await peer.IsClosedByPeerAsync());

        await using var client = await cluster.ConnectAsync();
        Assert.True(await client.PingAsync() > TimeSpan.Zero);
    }

    [Fact]
    public async Task A_hello_with_a_long_password_within_the_bound_is_judged_as_usual()
    {
        var password = new string('p', 4096);
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions { Password = password, AuthFailureDelay = TimeSpan.FromMilliseconds(100) });
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("k", "v");
        Assert.Equal("v", await client.GetStringAsync("k"));

        using var wrong = await RawConnection.ConnectAsync(cluster.Router.Port);
        await wrong.SendAsync(RawConnection.Hello(new string('q', 4096)));
        var refusal = await wrong.ReadFrameAsync();
        Assert.Equal(StatusCode.AuthFailed, refusal!.Value.Header.Status);
        Assert.Equal("wrong password", refusal.Value.Body);
        Assert.True(Encoding.UTF8.GetByteCount(password) + HelloRequest.FixedSize <= HelloRequest.MaxBodySize);
    }
}
