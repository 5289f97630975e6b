using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace KvnDb.Chaos;

/// <summary>
/// A node's link to the router, relayed through the chaos tool: the node connects to <see cref="Port"/>,
/// the relay connects on to the router. <see cref="Cut"/> blackholes the link: nothing is forwarded either
/// way and nothing is closed (a half-open link, as a DROP rule gives), new connections wait too; bytes and
/// closes that arrive meanwhile are delivered after <see cref="Heal"/>, as TCP retransmits after a heal.
/// Unlike a DROP rule, the relay's kernel still acknowledges the node's segments, so the node notices the
/// cut by the router's silence (<c>--router-timeout</c>), not by TCP_USER_TIMEOUT.
/// </summary>
internal sealed class LinkRelay : IAsyncDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _router;
    private readonly LinkGate _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Task, bool> _links = new();
    private Task _accepting = Task.CompletedTask;

    public LinkRelay(string name, int routerPort)
    {
        Name = name;
        _router = new IPEndPoint(IPAddress.Loopback, routerPort);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    public string Name { get; }

    /// <summary>Where the node connects (it is started with <c>--port</c> this).</summary>
    public int Port { get; }

    public bool IsCut => !_gate.IsOpen;

    public void Start() => _accepting = AcceptAsync(_stop.Token);

    public void Cut() => _gate.Shut();

    public void Heal() => _gate.Open();

    private async Task AcceptAsync(CancellationToken stop)
    {
        try
        {
            while (true)
            {
                var inbound = await _listener.AcceptSocketAsync(stop);
                var link = RelayAsync(inbound, stop);
                _links.TryAdd(link, true);
                // Only forgets the relayed link (it cannot fault); the link itself is kept in _links and awaited at dispose.
                _ = link.ContinueWith(done => _links.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RelayAsync(Socket inbound, CancellationToken stop)
    {
        using var node = inbound;
        using var router = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        node.NoDelay = true;
        try
        {
            await _gate.WaitOpenAsync(stop); // a connection attempt during a cut reaches the router only after the heal
            await router.ConnectAsync(_router, stop);
        }
        catch (SocketException)
        {
            return; // router down: the node sees its connection closed, as a refused connect
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await Task.WhenAll(PumpAsync(node, router, stop), PumpAsync(router, node, stop));
    }

    /// <summary>One direction. The gate is checked before each read and again before forwarding what was read.</summary>
    private async Task PumpAsync(Socket from, Socket to, CancellationToken stop)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                await _gate.WaitOpenAsync(stop);
                var read = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, stop);
                await _gate.WaitOpenAsync(stop);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send); // the peer's FIN, passed on
                    return;
                }
                for (var sent = 0; sent < read;)
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, stop);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // One side reset: once the link is healed, the other side learns it too.
            await WaitOpenQuietlyAsync(stop);
            from.Close();
            to.Close();
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task WaitOpenQuietlyAsync(CancellationToken stop)
    {
        try
        {
            await _gate.WaitOpenAsync(stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        await Task.WhenAll(_links.Keys);
        _stop.Dispose();
    }
}
