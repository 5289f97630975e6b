using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router.Groups;

/// <summary>
/// Cuts a multi-key request whose keys are in several groups into one request per group (its part), each
/// with that group's keys in their original order, and says which part each item (a key, or a batch's
/// operation) went to, so the replies can be put back in request order (<see cref="SplitRequest"/>).
/// Part frames carry the part's index as their request id. Only requests that span groups get here: the
/// copies are the price of the split, never paid by a request of one group.
/// </summary>
internal static class RequestSplitter
{
    /// <summary>The parts (frames) and, per item in request order, the index of its part; false when the body does not split.</summary>
    public static bool TrySplit(in FrameHeader header, ReadOnlySpan<byte> body, SlotMap map, out Split split)
    {
        split = default;
        var groupOfItem = GroupsOfItems(header.Opcode, body, map);
        if (groupOfItem is null)
            return false;
        var groups = groupOfItem.Distinct().ToArray();
        var partOfItem = Array.ConvertAll(groupOfItem, g => Array.IndexOf(groups, g));
        var frames = new byte[groups.Length][];
        for (var part = 0; part < groups.Length; part++)
            frames[part] = PartFrame(header, body, partOfItem, part);
        split = new Split(groups, frames, partOfItem);
        return true;
    }

    /// <summary>One request per group: its group index, its frame, and the part each item went to.</summary>
    public readonly record struct Split(int[] Groups, byte[][] Frames, int[] PartOfItem);

    private static int[]? GroupsOfItems(Opcode opcode, ReadOnlySpan<byte> body, SlotMap map)
    {
        var groups = new List<int>();
        switch (opcode)
        {
            case Opcode.MultiGet:
            {
                if (!MultiGetRequest.TryRead(body, out var request))
                    return null;
                while (request.TryReadNext(out var key))
                    groups.Add(map.GroupOfKey(key));
                break;
            }
            case Opcode.MultiSet:
            {
                if (!MultiSetRequest.TryRead(body, out var request))
                    return null;
                while (request.TryReadNext(out var key, out _))
                    groups.Add(map.GroupOfKey(key));
                break;
            }
            case Opcode.Batch:
            {
                if (!TransactionRequest.TryRead(body, out var reader) || reader.GuardCount != 0 || !reader.TryBeginOperations())
                    return null;
                while (reader.TryReadOperation(out var operation, out var operationBody))
                {
                    // RESP's DEL and EXISTS of several keys arrive as such batches; any other (MULTI/EXEC) must stay atomic.
                    if (operation is not (Opcode.Delete or Opcode.Exists or Opcode.Get))
                        return null;
                    var group = RequestGroups.Of(operation, operationBody, map);
                    if (group < 0)
                        return null; // an operation of its own spans groups (a copy between keys): not split
                    groups.Add(group);
                }
                break;
            }
            default:
                return null;
        }
        return groups.Count == 0 ? null : [.. groups];
    }

    private static byte[] PartFrame(in FrameHeader header, ReadOnlySpan<byte> body, int[] partOfItem, int part)
    {
        var output = new ArrayBufferWriter<byte>();
        var count = partOfItem.Count(p => p == part);
        var item = 0;
        switch (header.Opcode)
        {
            case Opcode.MultiGet:
            {
                _ = MultiGetRequest.TryRead(body, out var request);
                var length = CountedBodyWriter.HeaderSize;
                while (request.TryReadNext(out var key))
                    length += partOfItem[item++] == part ? CountedBodyWriter.FieldSize(key.Length) : 0;
                var writer = new CountedBodyWriter(output, header.Opcode, header.Flags & ~FrameFlags.More, (ulong)part, length, count, 1);
                _ = MultiGetRequest.TryRead(body, out request);
                item = 0;
                while (request.TryReadNext(out var key))
                    if (partOfItem[item++] == part)
                        writer.Field(key);
                _ = writer.Complete();
                break;
            }
            case Opcode.MultiSet:
            {
                _ = MultiSetRequest.TryRead(body, out var request);
                var length = CountedBodyWriter.HeaderSize;
                while (request.TryReadNext(out var key, out var value))
                    length += partOfItem[item++] == part ? CountedBodyWriter.FieldSize(key.Length) + CountedBodyWriter.FieldSize(value.Length) : 0;
                var writer = new CountedBodyWriter(output, header.Opcode, header.Flags, (ulong)part, length, count, 2);
                _ = MultiSetRequest.TryRead(body, out request);
                item = 0;
                while (request.TryReadNext(out var key, out var value))
                {
                    if (partOfItem[item++] != part)
                        continue;
                    writer.Field(key);
                    writer.Field(value);
                }
                _ = writer.Complete();
                break;
            }
            default:
            {
                _ = TransactionRequest.TryRead(body, out var reader);
                _ = reader.TryBeginOperations();
                var length = TransactionRequest.FixedSize;
                while (reader.TryReadOperation(out _, out var operationBody))
                    length += partOfItem[item++] == part ? TransactionRequest.OperationSize(operationBody.Length) : 0;
                var frame = output.GetSpan(ProtocolLimits.HeaderSize + length)[..(ProtocolLimits.HeaderSize + length)];
                new FrameHeader(length, header.Opcode, header.Flags, StatusCode.Ok, (ulong)part).Write(frame);
                var writer = new TransactionBodyWriter(frame[ProtocolLimits.HeaderSize..], guards: 0);
                writer.BeginOperations(count);
                _ = TransactionRequest.TryRead(body, out reader);
                _ = reader.TryBeginOperations();
                item = 0;
                while (reader.TryReadOperation(out var operation, out var operationBody))
                    if (partOfItem[item++] == part)
                        operationBody.CopyTo(writer.Operation(operation, operationBody.Length));
                _ = writer.Complete();
                output.Advance(frame.Length);
                break;
            }
        }
        return output.WrittenSpan.ToArray();
    }
}
