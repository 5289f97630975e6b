using System.IO.Pipelines;
using System.Net.Sockets;
using KvnDb.Protocol;
using KvnDb.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.Bench;

/// <summary>
/// How the generator's connections reach the server (<c>--io-engine</c>). On epoll, all connections share a few
/// event-loop threads of their own (<c>--threads</c>, one by default, as redis-benchmark): a reply is parsed and the next
/// batch sent on the thread that received it, with no thread-pool hop. On .NET's sockets every receive completes on the
/// runtime's epoll thread and continues on the pool: about twice the generator's CPU per request at pipeline 1, which
/// on a small machine is CPU taken from the servers being measured.
/// </summary>
internal sealed class LoadTransport : IDisposable
{
    // Thresholds, not allocations: a reply up to the largest frame must fit unread; a batch may wait unsent whole.
    private const long MaxBuffered = ProtocolLimits.DefaultMaxFrameSize + ProtocolLimits.HeaderSize;

    private readonly EpollLoopSet? _loops;

    /// <param name="engine">The socket engine; epoll needs Linux (<see cref="EpollNative.IsSupported"/>).</param>
    /// <param name="threads">Event-loop threads on epoll.</param>
    public LoadTransport(IoEngine engine, int threads = 1)
    {
        if (engine == IoEngine.Epoll && !EpollNative.IsSupported)
            throw new PlatformNotSupportedException("--io-engine epoll needs Linux on x86-64 or arm64");
        // The generator never polls before it sleeps: it must leave the cores to the servers it measures.
        _loops = engine == IoEngine.Epoll ? new EpollLoopSet(threads, TimeSpan.Zero, NullLogger.Instance) : null;
    }

    /// <summary>The default: .NET's sockets, for callers (tests, the BenchmarkDotNet suites) that run their own servers beside it.</summary>
    public static LoadTransport Sockets { get; } = new(IoEngine.Sockets);

    /// <summary>A connected TCP connection (no Nagle) as a pair of pipes, and what closes it.</summary>
    public async Task<(IDuplexPipe Pipe, IAsyncDisposable Owner)> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        if (_loops is null)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            var pipe = new SocketPipe(socket);
            return (pipe, pipe);
        }
        var epoll = await EpollSocket.ConnectAsync(host, port, _loops.Next(), MaxBuffered, MaxBuffered, static _ => { }, cancellationToken).ConfigureAwait(false);
        return (epoll, epoll);
    }

    public void Dispose() => _loops?.Dispose();
}
