using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router.Groups;

/// <summary>
/// The gate of a migration's moving slots. While it is open, requests on them go to the source group (which still owns
/// them); each passes through <see cref="TryEnter"/> / <see cref="Exit"/>, so the switch can wait until none is between
/// routing and its group (<see cref="FreezeAsync"/>). Frozen (the switch: a metadata write), writes are parked, copied,
/// and reads still go to the source (nothing changed there since); once the map has switched the lane is
/// <see cref="CloseAsync">closed</see> for good: every request that still routes to it (it read the old table) routes
/// again, to the target, and the parked writes are submitted again the same way. A write is parked at most for one
/// metadata change; it is never answered by the source after the switch.
/// </summary>
internal sealed class MigrationLane(Cluster cluster)
{
    private const int Open = 0, Frozen = 1, Closed = 2;

    private readonly Lock _lock = new();
    private readonly List<(IReplyTarget Client, FrameHeader Header, byte[] Frame)> _parked = [];
    private int _state;
    private int _inside;
    private TaskCompletionSource? _drained;

    public bool IsFrozen => Volatile.Read(ref _state) == Frozen;

    /// <summary>A write may go to the source now (then call <see cref="Exit"/>); false when it must be parked or routed again.</summary>
    public bool TryEnterWrite() => TryEnter(Open);

    /// <summary>A read may go to the source now (then call <see cref="Exit"/>); false once the lane is closed (route it again).</summary>
    public bool TryEnterRead() => TryEnter(Frozen);

    private bool TryEnter(int highestState)
    {
        Interlocked.Increment(ref _inside);
        if (Volatile.Read(ref _state) <= highestState)
            return true;
        Exit();
        return false;
    }

    public void Exit()
    {
        if (Interlocked.Decrement(ref _inside) == 0 && Volatile.Read(ref _drained) is { } drained)
            drained.TrySetResult();
    }

    /// <summary>Keeps a write for after the switch; false when the lane is no longer frozen (route it again).</summary>
    public bool TryPark(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        lock (_lock)
        {
            if (_state != Frozen)
                return false;
            _parked.Add((client, header, frame.ToArray()));
            return true;
        }
    }

    /// <summary>No new write passes from now on; completes once every request that passed has been submitted.</summary>
    public Task FreezeAsync()
    {
        lock (_lock)
            Interlocked.Exchange(ref _state, Frozen); // a full fence before reading who is inside (TryEnter increments, then reads the state)
        return DrainedAsync();
    }

    /// <summary>The switch did not happen: the lane opens again and the parked writes go to the source.</summary>
    public void Reopen()
    {
        lock (_lock)
            Interlocked.Exchange(ref _state, Open);
        Resubmit();
    }

    /// <summary>The map has switched: nothing goes to the source any more; the parked writes go where the new map says.</summary>
    public async Task CloseAsync()
    {
        lock (_lock)
            Interlocked.Exchange(ref _state, Closed);
        await DrainedAsync().ConfigureAwait(false);
        Resubmit();
    }

    private Task DrainedAsync()
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        if (Volatile.Read(ref _inside) == 0)
            drained.TrySetResult();
        return drained.Task;
    }

    private void Resubmit()
    {
        List<(IReplyTarget Client, FrameHeader Header, byte[] Frame)> parked;
        lock (_lock)
        {
            parked = [.. _parked];
            _parked.Clear();
        }
        var flush = new FlushSet();
        foreach (var (client, header, frame) in parked)
        {
            cluster.SubmitWrite(client, header, new ReadOnlySequence<byte>(frame), flush);
            flush.Add(client.Output);
        }
        flush.FlushAll();
    }
}
