using System.Buffers;
using System.Collections.Concurrent;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>
/// The key listings of one router link, each scanned on a task of its own, off the link's apply loop: a listing
/// over a large store (or a prefix that matches nothing in it) no longer holds back the writes and reads behind
/// it. Chunks wait in a small outbox (<see cref="MaxQueuedBytes"/>) until the loop moves them to the link's
/// output (<see cref="Drain"/>): the loop is the output's only writer, and a listing whose chunks are not sent
/// waits instead of filling memory. At most <see cref="MaxConcurrent"/> listings run at once on a link; another
/// is answered Busy.
/// </summary>
internal sealed class KeyListings(IStorageEngine engine, NodeStore store, int keysPerChunk, Action wake) : IAsyncDisposable
{
    public const int MaxConcurrent = 4;

    private const long MaxQueuedBytes = 1 << 20;

    private readonly ConcurrentQueue<byte[]> _ready = new();
    private readonly SemaphoreSlim _space = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private long _queuedBytes;
    private int _active;

    /// <summary>Listings scanning now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Starts a listing; false when <see cref="MaxConcurrent"/> already run (the caller answers Busy).</summary>
    public bool TryStart(ulong requestId, byte[] prefix, long now)
    {
        if (Interlocked.Increment(ref _active) > MaxConcurrent)
        {
            Interlocked.Decrement(ref _active);
            return false;
        }
        var listing = Task.Run(() => ListAsync(requestId, prefix, now));
        lock (_running)
        {
            _running.RemoveAll(t => t.IsCompleted);
            _running.Add(listing);
        }
        return true;
    }

    /// <summary>Moves every ready chunk to <paramref name="output"/> (called by the link's loop only); true when it moved any.</summary>
    public bool Drain(IBufferWriter<byte> output)
    {
        var moved = false;
        while (_ready.TryDequeue(out var frame))
        {
            output.Write(frame);
            Interlocked.Add(ref _queuedBytes, -frame.Length);
            moved = true;
        }
        if (moved && _space.CurrentCount < MaxConcurrent)
            _space.Release(); // a listing waiting for room looks again
        return moved;
    }

    private async Task ListAsync(ulong requestId, byte[] prefix, long now)
    {
        var chunk = new ArrayBufferWriter<byte>();
        try
        {
            var writer = new KeyChunkWriter(chunk, requestId, keysPerChunk);
            foreach (var key in engine.ListKeys(prefix))
            {
                _stop.Token.ThrowIfCancellationRequested();
                if (!store.IsListed(key, now))
                    continue; // expired at the router's time of the listing
                if (writer.Add(key))
                    await PublishAsync(chunk).ConfigureAwait(false);
            }
            writer.Finish();
            await PublishAsync(chunk).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The link ends: nobody reads the rest.
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The router retries nothing once chunks went out: an error frame ends the stream with the reason.
            chunk.ResetWrittenCount();
            ErrorReply.Write(chunk, Opcode.ListKeys, requestId, StatusCode.InternalError, $"node could not list keys: {ex.Message}");
            await PublishAsync(chunk).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    private async Task PublishAsync(ArrayBufferWriter<byte> chunk)
    {
        var frame = chunk.WrittenSpan.ToArray();
        chunk.ResetWrittenCount();
        while (Interlocked.Read(ref _queuedBytes) > MaxQueuedBytes)
            await _space.WaitAsync(_stop.Token).ConfigureAwait(false);
        Interlocked.Add(ref _queuedBytes, frame.Length);
        _ready.Enqueue(frame);
        wake();
    }

    /// <summary>How long a closing link waits for its listings (a scan notices the stop at its next matching key).</summary>
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(1);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] running;
        lock (_running)
            running = [.. _running];
        var all = Task.WhenAll(running);
        await all.WaitAsync(StopWait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!all.IsCompleted)
            return; // a long scan still runs: it ends at its next key (or when the engine closes) and its resources with it
        _stop.Dispose();
        _space.Dispose();
    }
}
