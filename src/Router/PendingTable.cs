using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// Slots for requests in flight, indexed by the low half of the id the router sends to nodes, so a
/// reply finds its request without hashing or allocating. Grows by doubling up to a bound.
/// </summary>
internal sealed class PendingTable(int capacity)
{
    private readonly Lock _lock = new();
    private PendingRequest[] _slots = [];
    private int[] _free = [];
    private int _freeCount;

    public int InUse { get; private set; }

    /// <summary>Set once the metrics exist (they observe the cluster, so they are built after it).</summary>
    public RouterMetrics? Metrics { get; set; }

    /// <summary>A slot, or null after answering Busy (unless the request wants no reply).</summary>
    public PendingRequest? RentOrRefuse(IReplyTarget client, in FrameHeader header)
    {
        var request = Rent();
        // Only a NoReply write goes unanswered: a read or digest is answered whatever its flags (its
        // session counts it in flight until then), so a refused one must hear Busy.
        var silent = (header.Flags & FrameFlags.NoReply) != 0 && header.Opcode.IsSequencedWrite();
        if (request is null && !silent)
            client.Error(header.Opcode, header.RequestId, StatusCode.Busy, "router has too many requests in flight");
        return request;
    }

    /// <summary>Ends a request: records its latency and frees its slot. Caller holds the request's lock.</summary>
    public void Finish(PendingRequest request)
    {
        Metrics?.RecordLatency(request.Kind, request.StartedAt);
        request.End();
        Return(request);
    }

    /// <summary>A free slot, or null when the table is full (capacity) and all its are already in flight.</summary>
    public PendingRequest? Rent()
    {
        lock (_lock)
        {
            if (_freeCount == 0 && !Grow())
                return null;
            InUse++;
            return _slots[_free[--_freeCount]];
        }
    }

    public void Return(PendingRequest request)
    {
        lock (_lock)
        {
            _free[_freeCount++] = request.Index;
            InUse--;
        }
    }

    /// <summary>The request with this id, if it is still the same use of its slot.</summary>
    public PendingRequest? Find(ulong id)
    {
        var slots = Volatile.Read(ref _slots);
        var index = (uint)id;
        if (id == 0 || index >= (uint)slots.Length)
            return null;
        var request = slots[index];
        return request.Id == id ? request : null;
    }

    /// <summary>A snapshot of every slot (used when a node dies, to find what it owed).</summary>
    public PendingRequest[] Slots => Volatile.Read(ref _slots);

    private bool Grow()
    {
        var size = _slots.Length;
        if (size >= capacity)
            return false;
        var newSize = Math.Min(capacity, Math.Max(256, size * 2));
        var slots = new PendingRequest[newSize];
        Array.Copy(_slots, slots, size);
        for (var i = size; i < newSize; i++)
            slots[i] = new PendingRequest(i);
        var free = new int[newSize];
        Array.Copy(_free, free, _freeCount);
        for (var i = newSize - 1; i >= size; i--)
            free[_freeCount++] = i;
        _free = free;
        Volatile.Write(ref _slots, slots);
        return true;
    }
}
