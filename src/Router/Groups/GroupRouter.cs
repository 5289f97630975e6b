using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router.Groups;

/// <summary>
/// Routes requests of a router with more than one group (one group goes straight to it, <see cref="Cluster"/>):
/// a request whose keys are in one group goes to that group's sequencer or reads as it is; a multi-get,
/// multi-set, or unguarded batch of deletes and exists (RESP DEL/EXISTS of several keys) across groups is split per group and put back together
/// (<see cref="RequestSplitter"/>, <see cref="SplitRequest"/>); a request without keys (listing, key count,
/// flush, digest) goes to every group and the answers are merged; a transaction, guarded write or copy across
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
        if (header.Opcode == Opcode.ScanKeys)
        {
            RefuseScanAcrossGroups(client, header);
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
        var groups = cluster.Groups;
        var split = new SplitRequest(client, header, groups.Length, partOfItem: null);
        var copy = frame.ToArray(); // each part is the same frame with its own id
        for (var part = 0; part < groups.Length; part++)
        {
            var partHeader = header with { RequestId = (ulong)part };
            partHeader.Write(copy);
            submit(groups[part], split, partHeader, new ReadOnlySequence<byte>(copy), flush);
        }
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
    /// A scan page is cut in one node's scan order, and each group's nodes hold only that group's slots: a scan sent to
    /// one group would silently miss every other group's keys. Continuing a finished group's scan into the next (the
    /// group in the cursor's high bits, docs/resp.md) is not built yet, so the scan is refused rather than partial.
    /// </summary>
    private void RefuseScanAcrossGroups(IReplyTarget client, in FrameHeader header)
    {
        cluster.Stats.Error();
        if ((header.Flags & FrameFlags.NoReply) == 0)
            client.Error(header.Opcode, header.RequestId, StatusCode.Unavailable,
                "SCAN is not paged across replica groups yet (this router has more than one group): list keys with KEYS instead");
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
