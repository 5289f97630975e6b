using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace KvnDb.FaultTests.Network;

/// <summary>
/// A userspace TCP relay: accepts on one side (a namespace, or the test's own loopback), opens a
/// connection per accepted one from another namespace, and copies bytes both ways, optionally
/// holding each chunk for a fixed delay per direction (the kernel here has no netem).
/// End of stream is passed on as a half-close; an error on either side resets both, so a failure
/// reaches the peer as a failure. It lets the in-process clients of a test sit in a namespace (their
/// packets leave from it, through its link, which the lab can cut) and adds latency to a link.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private const int ChunkSize = 64 * 1024;
    private const int QueuedChunks = 256;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _listener;
    private readonly string? _connectNamespace;
    private readonly IPEndPoint _target;
    private readonly TimeSpan _delay;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly HashSet<Socket> _sockets = [];
    private readonly List<Task> _pairs = [];
    private readonly Task _acceptLoop;

    private TcpRelay(Socket listener, string? connectNamespace, IPEndPoint target, TimeSpan delay)
    {
        _listener = listener;
        _connectNamespace = connectNamespace;
        _target = target;
        _delay = delay;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Where the relay accepts connections.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Connections accepted so far.</summary>
    public int Accepted { get; private set; }

    /// <summary>
    /// Starts a relay listening on <paramref name="listen"/> inside <paramref name="listenNamespace"/> (null: the
    /// test's own namespace) that connects to <paramref name="target"/> from <paramref name="connectNamespace"/>.
    /// </summary>
    public static TcpRelay Start(string? listenNamespace, IPEndPoint listen, string? connectNamespace, IPEndPoint target, TimeSpan delayEachWay = default)
    {
        var listener = NamespaceSockets.CreateTcp(listenNamespace);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(listen);
            listener.Listen(128);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return new TcpRelay(listener, connectNamespace, target, delayEachWay);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket inbound;
            try
            {
                inbound = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            lock (_lock)
            {
                Accepted++;
                _sockets.Add(inbound);
                _pairs.RemoveAll(t => t.IsCompleted);
                _pairs.Add(Task.Run(() => RelayAsync(inbound)));
            }
        }
    }

    private async Task RelayAsync(Socket inbound)
    {
        inbound.NoDelay = true;
        Socket outbound;
        try
        {
            outbound = NamespaceSockets.CreateTcp(_connectNamespace);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or SocketException)
        {
            Reset(inbound);
            return;
        }
        Track(outbound);
        outbound.NoDelay = true;
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                timeout.CancelAfter(ConnectTimeout);
                await outbound.ConnectAsync(_target, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            Reset(inbound);
            Reset(outbound);
            return;
        }
        var up = PumpAsync(inbound, outbound);
        var down = PumpAsync(outbound, inbound);
        await Task.WhenAll(up, down).ConfigureAwait(false);
        Close(inbound);
        Close(outbound);
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/> until end of stream or an error (which resets both).</summary>
    private async Task PumpAsync(Socket from, Socket to)
    {
        try
        {
            if (_delay <= TimeSpan.Zero)
                await CopyAsync(from, to).ConfigureAwait(false);
            else
                await CopyDelayedAsync(from, to).ConfigureAwait(false);
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or ChannelClosedException)
        {
            Reset(from);
            Reset(to);
        }
    }

    private async Task CopyAsync(Socket from, Socket to)
    {
        var buffer = new byte[ChunkSize];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
            if (read == 0)
                return;
            await SendAllAsync(to, buffer.AsMemory(0, read)).ConfigureAwait(false);
        }
    }

    private async Task CopyDelayedAsync(Socket from, Socket to)
    {
        var queue = Channel.CreateBounded<(long Due, byte[] Data)>(new BoundedChannelOptions(QueuedChunks) { SingleReader = true, SingleWriter = true });
        var sender = Task.Run(async () =>
        {
            try
            {
                await foreach (var (due, data) in queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
                {
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                    if (wait > TimeSpan.Zero)
                        await Task.Delay(wait, _stop.Token).ConfigureAwait(false); // the injected latency itself
                    await SendAllAsync(to, data).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // Wake the receive side too: the pair is dead.
                queue.Writer.TryComplete(ex);
                Reset(from);
                Reset(to);
                throw;
            }
        });
        var buffer = new byte[ChunkSize];
        var delayTicks = (long)(_delay.TotalSeconds * Stopwatch.Frequency);
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (read == 0)
                    break;
                await queue.Writer.WriteAsync((Stopwatch.GetTimestamp() + delayTicks, buffer.AsSpan(0, read).ToArray()), _stop.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            queue.Writer.TryComplete();
        }
        await sender.ConfigureAwait(false);
    }

    private async Task SendAllAsync(Socket to, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = await to.SendAsync(data, SocketFlags.None, _stop.Token).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    private void Track(Socket socket)
    {
        lock (_lock)
            _sockets.Add(socket);
    }

    /// <summary>Closes with RST (linger 0), so the peer sees a reset rather than an orderly end.</summary>
    private void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        Close(socket);
    }

    private void Close(Socket socket)
    {
        lock (_lock)
            _sockets.Remove(socket);
        socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        Socket[] sockets;
        Task[] pairs;
        lock (_lock)
        {
            sockets = [.. _sockets];
            pairs = [.. _pairs];
        }
        foreach (var socket in sockets)
            Reset(socket);
        try
        {
            await Task.WhenAll([_acceptLoop, .. pairs]).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A pump stuck in the kernel; its sockets are closed, the task ends with the process.
        }
    }
}
