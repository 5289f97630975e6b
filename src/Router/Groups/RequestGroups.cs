using KvnDb.Protocol;

namespace KvnDb.Router.Groups;

/// <summary>
/// Which replica group a client request belongs to, from the slots of its keys: one group's index, or
/// <see cref="Every"/> (no key: listings, counts, flushes concern every group), or <see cref="Several"/>
/// (its keys are in more than one group: split, or refused with CrossSlot). Only a router with more than
/// one group asks, so a cluster of one group computes no slot. The body was validated before.
/// </summary>
internal static class RequestGroups
{
    public const int Every = -1;

    public const int Several = -2;

    public static int Of(Opcode opcode, ReadOnlySpan<byte> body, SlotMap map)
    {
        switch (opcode)
        {
            case Opcode.ListKeys or Opcode.KeyCount or Opcode.FlushKeys:
                return Every;
            case Opcode.MultiGet:
            {
                if (!MultiGetRequest.TryRead(body, out var request))
                    return 0;
                var group = Unknown;
                while (request.TryReadNext(out var key))
                    group = Merge(group, map.GroupOfKey(key));
                return Known(group);
            }
            case Opcode.MultiSet:
            {
                if (!MultiSetRequest.TryRead(body, out var request))
                    return 0;
                var group = Unknown;
                while (request.TryReadNext(out var key, out _))
                    group = Merge(group, map.GroupOfKey(key));
                return Known(group);
            }
            case Opcode.Transaction or Opcode.Batch:
            {
                if (!TransactionRequest.TryRead(body, out var reader))
                    return 0;
                var group = Unknown;
                while (reader.TryReadGuard(out var key, out _))
                    group = Merge(group, map.GroupOfKey(key));
                if (!reader.TryBeginOperations())
                    return Known(group);
                while (reader.TryReadOperation(out var operation, out var operationBody))
                    group = Merge(group, OfOperation(operation, operationBody, map));
                return Known(group);
            }
            default:
                return Known(OfOperation(opcode, body, map));
        }
    }

    /// <summary>The group of one operation (a request of its own, or an entry of a transaction).</summary>
    private static int OfOperation(Opcode opcode, ReadOnlySpan<byte> body, SlotMap map)
    {
        ReadOnlySpan<byte> key;
        switch (opcode)
        {
            case Opcode.Get or Opcode.Exists or Opcode.Delete or Opcode.GetDelete or Opcode.GetVersioned or Opcode.TimeToLive:
                return KeyRequest.TryRead(body, out key) ? map.GroupOfKey(key) : Unknown;
            case Opcode.Set or Opcode.Append:
                return SetRequest.TryRead(body, out key, out _) ? map.GroupOfKey(key) : Unknown;
            case Opcode.SetWhen:
                return SetWhenRequest.TryRead(body, out _, out key, out _) ? map.GroupOfKey(key) : Unknown;
            case Opcode.Increment:
                return IncrementRequest.TryRead(body, out long _, out key) ? map.GroupOfKey(key) : Unknown;
            case Opcode.IncrementFloat:
                return FloatIncrementRequest.TryRead(body, out double _, out key) ? map.GroupOfKey(key) : Unknown;
            case Opcode.SetRange:
                return SetRangeRequest.TryRead(body, out ulong _, out key, out _) ? map.GroupOfKey(key) : Unknown;
            case Opcode.Expire or Opcode.GetExpire:
                return ExpireRequest.TryRead(body, out _, out _, out _, out key) ? map.GroupOfKey(key) : Unknown;
            case Opcode.CopyKey:
                return CopyKeyRequest.TryRead(body, out _, out var source, out var target)
                    ? Merge(map.GroupOfKey(source), map.GroupOfKey(target)) : Unknown;
            case Opcode.ListKeys or Opcode.KeyCount or Opcode.FlushKeys:
                return Several; // inside a transaction: it would need every group
            default:
                return Unknown;
        }
    }

    /// <summary>No key seen yet (a malformed body, which a node answers as it would without groups).</summary>
    private const int Unknown = -3;

    private static int Merge(int group, int next) =>
        group == Unknown ? next : next == Unknown || next == group ? group : Several;

    private static int Known(int group) => group == Unknown ? 0 : group;
}
