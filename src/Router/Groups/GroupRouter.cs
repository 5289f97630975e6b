using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router.Groups;

/// <summary>
/// Routes requests of a router with more than one group (one group goes straight to it, <see cref="Cluster"/>):
/// a request whose keys are in one group goes to that group's sequencer or reads as it is; a multi-get,
/// multi-set, or unguarded batch of deletes and exists (RESP DEL/EXISTS of several keys) across groups is split per group and put back together
/// (<see cref="RequestSplitter"/>, <see cref="SplitRequest"/>); a request without keys (listing, key count,
/// flush, digest) goes to every group and the answers are merged (a listing and a key count only count each group's own
/// slots); a scan page goes to the group that owns the slot at its position, bounded by the end of that group's run of
/// slots (scan positions lead with the slot, docs/protocol.md section 5.5); a transaction, guarded write or copy across
/// groups (a MULTI/EXEC batch too) is refused with <see cref="StatusCode.CrossSlot"/>: it must be atomic, and groups share no sequence.
/// </summary>
internal sealed class GroupRouter(Cluster cluster)
{
    public void SubmitWrite(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        var routes = cluster.Routes;
        var target = Target(header, frame, routes.Map);
        if (target >= 0)
        {
            WriteTo(routes, target, client, header, frame, flush);
            return;
        }
        if (target == RequestGroups.Every)
        {
            if (routes.Migration is { } migration && header.Opcode == Opcode.FlushKeys)
            {
                RefuseWhileMigrating(client, header, migration);
                return;
            }
            Broadcast(client, header, frame, flush, static (group, part, h, f, fl) => group.Sequencer.SubmitWrite(part, h, f, fl));
            return;
        }
        if (header.Opcode is Opcode.MultiSet or Opcode.Batch && TrySplit(routes, client, header, frame, flush, write: true))
            return;
        RefuseCrossSlot(client, header, routes);
    }

    public void SubmitRead(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        switch (header.Opcode)
        {
            case Opcode.ScanKeys:
                ScanPage(client, header, frame, flush);
                return;
            case Opcode.ListKeys:
                ListOwnedKeys(client, header, frame, flush);
                return;
            case Opcode.KeyCount:
                CountOwnedKeys(client, header, frame, flush);
                return;
        }
        var routes = cluster.Routes;
        var target = Target(header, frame, routes.Map);
        if (target >= 0)
        {
            ReadFrom(routes, target, client, header, frame, flush);
            return;
        }
        if (target == RequestGroups.Every)
        {
            Broadcast(client, header, frame, flush, static (group, part, h, f, fl) => group.Reads.SubmitRead(part, h, f, fl));
            return;
        }
        if (header.Opcode == Opcode.MultiGet && TrySplit(routes, client, header, frame, flush, write: false))
            return;
        RefuseCrossSlot(client, header, routes);
    }

    /// <summary>
    /// A write of one group, or of a migration's moving slots (the lane): those go to the source, which still owns them,
    /// through the lane's gate; while the switch is being made they are parked, and after it they route again (to the target).
    /// </summary>
    private void WriteTo(RouteTable routes, int target, IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        if (target != routes.Lane)
        {
            cluster.Groups[target].Sequencer.SubmitWrite(client, header, frame, flush);
            return;
        }
        var migration = routes.Migration!;
        if (migration.Lane.TryEnterWrite())
        {
            try
            {
                migration.From.Sequencer.SubmitWrite(client, header, frame, flush);
            }
            finally
            {
                migration.Lane.Exit();
            }
            migration.Signal();
            return;
        }
        if (!migration.Lane.TryPark(client, header, frame))
            SubmitWrite(client, header, frame, flush); // the lane closed meanwhile: the table has changed
    }

    /// <summary>A read of one group; one of moving slots reads from the source until the switch, then routes again.</summary>
    private void ReadFrom(RouteTable routes, int target, IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        if (target != routes.Lane)
        {
            cluster.Groups[target].Reads.SubmitRead(client, header, frame, flush);
            return;
        }
        var migration = routes.Migration!;
        if (!migration.Lane.TryEnterRead())
        {
            SubmitRead(client, header, frame, flush);
            return;
        }
        try
        {
            migration.From.Reads.SubmitRead(client, header, frame, flush);
        }
        finally
        {
            migration.Lane.Exit();
        }
    }

    /// <summary>Every group's digest, taken at each group's own position; one answer naming every node.</summary>
    public void SubmitDigest(IReplyTarget client, in FrameHeader header, FlushSet flush)
    {
        var split = new SplitRequest(client, header, cluster.Groups.Length, partOfItem: null);
        for (var part = 0; part < cluster.Groups.Length; part++)
            cluster.Groups[part].Digests.SubmitDigest(split, header with { RequestId = (ulong)part }, flush);
    }

    private static int Target(in FrameHeader header, in ReadOnlySequence<byte> frame, SlotMap map)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        return RequestGroups.Of(header.Opcode, body.Span, map);
    }

    private delegate void Submit(ReplicaGroup group, IReplyTarget part, FrameHeader header, ReadOnlySequence<byte> frame, FlushSet flush);

    /// <summary>The same request to every group (each part's id is its group's index); the answers merged.</summary>
    private void Broadcast(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush, Submit submit)
    {
        var owning = OwningGroups(cluster.Slots);
        Broadcast(new SplitRequest(client, header, owning.Length, partOfItem: null), owning, header, frame, flush, submit);
    }

    private void Broadcast(SplitRequest split, int[] owning, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush, Submit submit)
    {
        var groups = cluster.Groups;
        var copy = frame.ToArray(); // each part is the same frame with its own id
        for (var part = 0; part < owning.Length; part++)
        {
            var partHeader = header with { RequestId = (ulong)part };
            partHeader.Write(copy);
            submit(groups[owning[part]], split, partHeader, new ReadOnlySequence<byte>(copy), flush);
        }
    }

    /// <summary>
    /// The groups that own a slot in <paramref name="owners"/>: a request for every key (a listing, a count, a flush) goes to
    /// them only. A group that owns none holds no key of its own (a group just added, maybe without nodes yet, or a
    /// migration's target before its switch, whose copies are not its keys yet).
    /// </summary>
    private static int[] OwningGroups(SlotMap owners)
    {
        var counts = owners.SlotCounts();
        return [.. Enumerable.Range(0, counts.Length).Where(g => counts[g] > 0)];
    }

    private bool TrySplit(RouteTable routes, IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush, bool write)
    {
        RequestSplitter.Split plan;
        using (var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize)))
        {
            if (!RequestSplitter.TrySplit(header, body.Span, routes.Map, out plan))
                return false;
        }
        var split = new SplitRequest(client, header, plan.Groups.Length, plan.PartOfItem);
        for (var part = 0; part < plan.Groups.Length; part++)
        {
            var partFrame = new ReadOnlySequence<byte>(plan.Frames[part]);
            var partHeader = FrameHeader.Read(partFrame);
            if (write)
                WriteTo(routes, plan.Groups[part], split, partHeader, partFrame, flush);
            else
                ReadFrom(routes, plan.Groups[part], split, partHeader, partFrame, flush);
        }
        return true;
    }

    /// <summary>
    /// One page of a scan across groups. Positions lead with the slot, and a group owns whole slots: the page goes to the
    /// group that owns the slot at the cursor (the source, through the lane, for a moving slot), bounded by the end of that
    /// group's run of consecutive slots, so the node stops there and answers that end as the next position, where the next
    /// page continues in the next run's group. Each position is examined by one page, answered by the group that owns
    /// its slot when the page is routed (and holds every key of it: the target takes a moving slot only once it holds it
    /// all, and the source deletes it only once no read routed to it is in flight): a key present for the whole scan is
    /// returned exactly once, even when its slot moves during the scan. The cursor is the position itself: no group bits.
    /// </summary>
    private void ScanPage(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        var routes = cluster.Routes;
        var map = routes.Map;
        int group;
        byte[] page;
        using (var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize)))
        {
            _ = ScanKeysRequest.TryRead(body.Span, out var database, out var position, out var count, out var pattern, out var end); // validated
            var slot = ScanKeysRequest.SlotOf(position);
            group = map.GroupOf(slot);
            var runEnd = slot + 1;
            while (runEnd < KeySlot.Count && map.GroupOf(runEnd) == group)
                runEnd++;
            var bound = Math.Min(end, runEnd == KeySlot.Count ? ScanKeysRequest.PositionLimit : ScanKeysRequest.FirstPositionOf(runEnd));
            var length = ScanKeysRequest.BoundedBodyLength(pattern.Length);
            page = new byte[ProtocolLimits.HeaderSize + length];
            (header with { BodyLength = length }).Write(page);
            _ = ScanKeysRequest.WriteBody(page.AsSpan(ProtocolLimits.HeaderSize), database, position, count, pattern, bound);
        }
        ReadFrom(routes, group, client, header with { BodyLength = page.Length - ProtocolLimits.HeaderSize }, new ReadOnlySequence<byte>(page), flush);
    }

    /// <summary>
    /// A listing from every group, each group's keys filtered to the slots it owns in the map of the listing's start
    /// (<see cref="SplitRequest.Owners"/>): a migration's copies are listed once. The listing is tracked
    /// (<see cref="ListingTracker"/>) so a migration's cleanup does not delete keys under it that it counts as the source's.
    /// </summary>
    private void ListOwnedKeys(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        var listings = cluster.Migrations.Listings;
        var epoch = listings.Enter(); // before the map is read
        var owners = cluster.Slots;
        var owning = OwningGroups(owners);
        var split = new SplitRequest(client, header, owning.Length, partOfItem: null)
        {
            Owners = owners,
            GroupOfPart = owning,
            Answered = () => listings.Exit(epoch),
        };
        Broadcast(split, owning, header, frame, flush, static (group, part, h, f, fl) => group.Reads.SubmitRead(part, h, f, fl));
    }

    /// <summary>
    /// A key count from every group, each group's nodes leaving out the keys of slots the group does not own
    /// (a trailing slot set, <see cref="KeyCountRequest.ExcludingSize"/>). While slots move, the count is sent through the
    /// lane (as a read of the moving slots): the source counts them until the switch, and no count routed with the old
    /// map reaches the source after its cleanup.
    /// </summary>
    private void CountOwnedKeys(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        var migration = cluster.Routes.Migration;
        if (migration is not null && !migration.Lane.TryEnterRead())
        {
            SubmitRead(client, header, frame, flush); // the lane closed meanwhile: the map has switched
            return;
        }
        try
        {
            var owners = cluster.Slots;
            var groups = cluster.Groups;
            var owning = OwningGroups(owners);
            byte database;
            using (var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize)))
                database = body.Span[0]; // validated
            var split = new SplitRequest(client, header, owning.Length, partOfItem: null);
            var excluded = new byte[SlotSet.Size];
            for (var part = 0; part < owning.Length; part++)
            {
                excluded.AsSpan().Clear();
                for (var slot = 0; slot < KeySlot.Count; slot++)
                    if (owners.GroupOf(slot) != owning[part])
                        excluded[slot >> 3] |= (byte)(1 << (slot & 7));
                var count = new byte[ProtocolLimits.HeaderSize + KeyCountRequest.ExcludingSize];
                var partHeader = header with { BodyLength = KeyCountRequest.ExcludingSize, RequestId = (ulong)part };
                partHeader.Write(count);
                _ = KeyCountRequest.WriteBody(count.AsSpan(ProtocolLimits.HeaderSize), database, excluded);
                groups[owning[part]].Reads.SubmitRead(split, partHeader, new ReadOnlySequence<byte>(count), flush);
            }
        }
        finally
        {
            migration?.Lane.Exit();
        }
    }

    private void RefuseCrossSlot(IReplyTarget client, in FrameHeader header, RouteTable routes)
    {
        cluster.Stats.Error();
        if ((header.Flags & FrameFlags.NoReply) != 0)
            return;
        var migrating = routes.Migration is null ? "" : " (or some of its slots are migrating and the others are not: retry once the migration is done)";
        client.Error(header.Opcode, header.RequestId, StatusCode.CrossSlot,
            $"the keys of this {header.Opcode} are in slots of more than one group{migrating}; it must apply in one group " +
            "(give related keys one {hash tag}, e.g. {user1}:a and {user1}:b); nothing was done");
    }

    /// <summary>A flush of every key would be applied by the source and the target at different points of the moving slots' stream.</summary>
    private void RefuseWhileMigrating(IReplyTarget client, in FrameHeader header, SlotMigration migration)
    {
        cluster.Stats.Error();
        if ((header.Flags & FrameFlags.NoReply) == 0)
            client.Error(header.Opcode, header.RequestId, StatusCode.Unavailable,
                $"slots are migrating from group {migration.Record.From} to {migration.Record.To}: flush once the migration is done; nothing was done");
    }
}
