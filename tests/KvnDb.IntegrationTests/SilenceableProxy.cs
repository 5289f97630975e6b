using System.Net;
using System.Net.Sockets;

namespace KvnDb.IntegrationTests;

/// <summary>
/// A TCP proxy in front of the router that can go silent (stop forwarding in both directions without
/// closing anything, as a cut link or a frozen peer looks from either end) and heal.
/// </summary>
internal sealed class SilenceableProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _pumps = [];
    private readonly Task _acceptLoop;
    private volatile TaskCompletionSource _flowing = Open();

    public SilenceableProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Stops forwarding: bytes already read wait, the rest stays in the kernel's buffers.</summary>
    public void Silence()
    {
        if (_flowing.Task.IsCompleted)
            _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Heal() => _flowing.TrySetResult();

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync();
                var router = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await router.ConnectAsync(IPAddress.Loopback, _targetPort);
                lock (_sockets)
                {
                    _sockets.Add(client);
                    _sockets.Add(router);
                    _pumps.Add(PumpAsync(client, router));
                    _pumps.Add(PumpAsync(router, client));
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // stopped
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer.AsMemory());
                await _flowing.Task;
                if (read == 0)
                    break;
                await to.SendAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        from.Dispose();
        to.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        Heal();
        _listener.Stop();
        await _acceptLoop.WaitAsync(TestCluster.Timeout);
        Task[] pumps;
        lock (_sockets)
        {
            foreach (var socket in _sockets)
                socket.Dispose();
            pumps = [.. _pumps];
        }
        await Task.WhenAll(pumps).WaitAsync(TestCluster.Timeout);
    }
}
