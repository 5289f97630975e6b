using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KvnDb.FaultTests.Network;

namespace KvnDb.FaultTests.NetworkTests;

/// <summary>The lab itself, with plain sockets: links carry data, cuts drop it silently both ways, heals restore it, relays delay it, a restarted host forgets its connections.</summary>
public sealed class NetworkLabTests
{
    private const int Port = 9000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [SkippableFact]
    public async Task A_cut_drops_both_ways_silently_and_a_heal_restores_the_same_connection()
    {
        await SkipUnlessAvailableAsync();
        await using var lab = await NetworkLab.CreateAsync();
        var a = await lab.AddHostAsync("a", 1);
        var b = await lab.AddHostAsync("b", 2);
        using var listener = Listen(b);
        using var client = NamespaceSockets.CreateTcp(a.NamespaceName);
        await client.ConnectAsync(new IPEndPoint(b.Address, Port)).WaitAsync(Timeout);
        using var server = await listener.AcceptAsync().WaitAsync(Timeout);
        await RoundTripAsync(client, server, 1);

        await a.CutAsync();
        await client.SendAsync(new byte[] { 2 }).WaitAsync(Timeout); // queued by the kernel: no error
        var buffer = new byte[1];
        var receive = server.ReceiveAsync(buffer);
        // Proving an absence needs a wait: nothing may arrive while the link is cut.
        await Assert.ThrowsAsync<TimeoutException>(() => receive.WaitAsync(TimeSpan.FromSeconds(1)));
        using (var refused = NamespaceSockets.CreateTcp(a.NamespaceName))
        {
            using var connectTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => refused.ConnectAsync(new IPEndPoint(b.Address, Port), connectTimeout.Token).AsTask());
        }

        await a.HealAsync();
        // The retransmission gets through on the same connection.
        Assert.Equal(1, await receive.WaitAsync(Timeout));
        Assert.Equal(2, buffer[0]);
    }

    [SkippableFact]
    public async Task A_delaying_relay_adds_its_delay_each_way()
    {
        await SkipUnlessAvailableAsync();
        await using var lab = await NetworkLab.CreateAsync();
        var a = await lab.AddHostAsync("a", 1);
        var b = await lab.AddHostAsync("b", 2);
        using var listener = Listen(b);
        await using var relay = TcpRelay.Start(b.NamespaceName, new IPEndPoint(b.Address, Port + 1), b.NamespaceName, new IPEndPoint(b.Address, Port), TimeSpan.FromMilliseconds(50));
        using var client = NamespaceSockets.CreateTcp(a.NamespaceName);
        await client.ConnectAsync(new IPEndPoint(b.Address, Port + 1)).WaitAsync(Timeout);
        using var server = await listener.AcceptAsync().WaitAsync(Timeout);
        var started = Stopwatch.GetTimestamp();
        await RoundTripAsync(client, server, 7);
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(95), $"round trip took {Stopwatch.GetElapsedTime(started).TotalMilliseconds} ms");
    }

    [SkippableFact]
    public async Task A_restarted_host_resets_old_connections_and_cleanup_removes_every_namespace()
    {
        await SkipUnlessAvailableAsync();
        string id;
        await using (var lab = await NetworkLab.CreateAsync())
        {
            id = lab.Id;
            var a = await lab.AddHostAsync("a", 1);
            var b = await lab.AddHostAsync("b", 2);
            using var listener = Listen(b);
            using var client = NamespaceSockets.CreateTcp(a.NamespaceName);
            await client.ConnectAsync(new IPEndPoint(b.Address, Port)).WaitAsync(Timeout);
            // The old sockets stay open: a reboot sends no FIN.
            using var server = await listener.AcceptAsync().WaitAsync(Timeout);
            await RoundTripAsync(client, server, 3);

            await lab.RestartHostAsync(b);
            // b's new kernel knows nothing of the connection: the next segment is answered with RST.
            await client.SendAsync(new byte[] { 4 }).WaitAsync(Timeout);
            var error = await Assert.ThrowsAsync<SocketException>(async () =>
            {
                while (await client.ReceiveAsync(new byte[1]).WaitAsync(Timeout) > 0)
                {
                }
                throw new SocketException((int)SocketError.Success);
            });
            Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        }
        var namespaces = await Shell.RunAsync("ip", "netns", "list");
        Assert.DoesNotContain(id + "-", namespaces);
    }

    private static async Task SkipUnlessAvailableAsync()
    {
        var reason = await NetworkLab.UnavailableReasonAsync();
        Skip.If(reason is not null, reason);
    }

    private static Socket Listen(NetHost host)
    {
        var listener = NamespaceSockets.CreateTcp(host.NamespaceName);
        listener.Bind(new IPEndPoint(host.Address, Port));
        listener.Listen();
        return listener;
    }

    private static async Task RoundTripAsync(Socket client, Socket server, byte value)
    {
        var buffer = new byte[1];
        await client.SendAsync(new[] { value }).WaitAsync(Timeout);
        Assert.Equal(1, await server.ReceiveAsync(buffer).WaitAsync(Timeout));
        await server.SendAsync(buffer).WaitAsync(Timeout);
        Assert.Equal(1, await client.ReceiveAsync(buffer).WaitAsync(Timeout));
        Assert.Equal(value, buffer[0]);
    }
}
