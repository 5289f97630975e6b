using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Protocol;

/// <summary>Slot migration on the wire: slot sets, MigrationRead, FlushSlots, a migration chunk, SlotControl (docs/protocol.md section 6.3).</summary>
public sealed class MigrationMessageTests
{
    [Fact]
    public void A_slot_set_is_one_bit_per_slot_low_bit_first()
    {
        var set = SlotSet.Of([0, 9, 16383]);
        Assert.Equal(2048, set.Length);
        Assert.Equal(0b0000_0001, set[0]);
        Assert.Equal(0b0000_0010, set[1]);
        Assert.Equal(0b1000_0000, set[2047]);
        Assert.Equal([0, 9, 16383], SlotSet.Slots(set));
        Assert.True(SlotSet.ContainsKey(set, "123456789"u8.ToArray()) == (KeySlot.Of("123456789"u8) is 0 or 9 or 16383));
        Assert.Throws<ArgumentOutOfRangeException>(() => SlotSet.Of([16384]));
    }

    [Fact]
    public void MigrationRead_round_trips_and_refuses_any_other_length()
    {
        var slots = SlotSet.Of([5, 8000]);
        var output = new ArrayBufferWriter<byte>();
        MigrationRead.Write(output, SyncMessages.ControlIdBit | 7, 7, 256 * 1024, slots);
        var frame = output.WrittenSpan;
        var header = FrameHeader.Read(frame);
        Assert.Equal(Opcode.MigrationRead, header.Opcode);
        Assert.Equal(MigrationRead.Size, header.BodyLength);
        Assert.Equal(8 + 4 + 2048, MigrationRead.Size);
        var body = frame[ProtocolLimits.HeaderSize..];
        Assert.True(MigrationRead.TryRead(body, out var id, out var maxBytes, out var read));
        Assert.Equal(7UL, id);
        Assert.Equal(256 * 1024, maxBytes);
        Assert.True(read.SequenceEqual(slots));
        Assert.False(MigrationRead.TryRead(body[..^1], out _, out _, out _));
        var longer = new byte[body.Length + 1];
        body.CopyTo(longer);
        Assert.False(MigrationRead.TryRead(longer, out _, out _, out _));
        // A budget above int.MaxValue reads as int.MaxValue (never negative).
        var huge = body.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(8), uint.MaxValue);
        Assert.True(MigrationRead.TryRead(huge, out _, out var clamped, out _));
        Assert.Equal(int.MaxValue, clamped);
    }

    [Fact]
    public void FlushSlots_is_a_slot_set_and_nothing_else()
    {
        var slots = SlotSet.Of([1, 2, 3]);
        var frame = new byte[ProtocolLimits.HeaderSize + FlushSlotsRequest.Size];
        Assert.Equal(frame.Length, FlushSlotsRequest.WriteFrame(frame, 9, slots));
        var header = FrameHeader.Read(frame);
        Assert.Equal((Opcode.FlushSlots, 9UL, 2048), (header.Opcode, header.RequestId, header.BodyLength));
        Assert.True(FlushSlotsRequest.TryRead(frame.AsSpan(ProtocolLimits.HeaderSize), out var read));
        Assert.True(read.SequenceEqual(slots));
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.FlushSlots, frame.AsSpan(ProtocolLimits.HeaderSize), 64));
        Assert.Equal(StatusCode.ProtocolError, BodyValidator.Validate(Opcode.FlushSlots, frame.AsSpan(ProtocolLimits.HeaderSize + 1), 64));
        Assert.True(Opcode.FlushSlots.IsSequencedWrite());
        Assert.False(Opcode.FlushSlots.IsClientWrite());
    }

    [Fact]
    public void A_migration_chunk_validates_every_record_and_its_largest_record_bounds_the_write()
    {
        var output = new ArrayBufferWriter<byte>();
        var records = new (byte[] Key, byte[] Value, ulong Sequence, long Expiry)[]
        {
            ("a"u8.ToArray(), "1"u8.ToArray(), 5, 0), ("bb"u8.ToArray(), new byte[300], 0, 0), ("ccc"u8.ToArray(), "x"u8.ToArray(), 9, 1234),
        };
        var bytes = records.Sum(r => SnapshotChunkHeader.RecordSize(r.Key.Length, r.Value.Length));
        var writer = new SnapshotChunkWriter(output, 3, new SnapshotChunkHeader(true, 10, (uint)records.Length), bytes, Opcode.MigrationRead);
        foreach (var (key, value, sequence, expiry) in records)
            writer.Add(key, value, sequence, expiry);
        writer.Complete();
        Assert.Equal(Opcode.MigrationRead, FrameHeader.Read(output.WrittenSpan).Opcode);
        var body = output.WrittenSpan[ProtocolLimits.HeaderSize..].ToArray();

        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.MigrationApply, body, 64));
        Assert.Equal(StatusCode.KeyTooLarge, BodyValidator.Validate(Opcode.MigrationApply, body, 2));
        Assert.Equal(302, BodyValidator.LargestRecord(Opcode.MigrationApply, body));
        for (var length = 0; length < body.Length; length++)
            Assert.Equal(StatusCode.ProtocolError, BodyValidator.Validate(Opcode.MigrationApply, body.AsSpan(0, length), 64));
        Assert.True(SnapshotChunkReader.TryRead(body, out var reader));
        Assert.True(reader.TryReadNext(out var first, out _, out var firstSequence, out _));
        Assert.Equal(("a", 5UL), (Encoding.ASCII.GetString(first), firstSequence));
        Assert.True(Opcode.MigrationApply.IsSequencedWrite());
        Assert.False(Opcode.MigrationApply.IsClientWrite());
    }

    [Fact]
    public void SlotControl_round_trips_a_move_and_refuses_bad_names_counts_and_actions()
    {
        var body = new byte[SlotControlRequest.BodyLength(1, 3)];
        Assert.Equal(body.Length, SlotControlRequest.WriteBody(body, SlotControlAction.Move, "a", "new", 8192));
        Assert.True(SlotControlRequest.TryRead(body, out var action, out var from, out var to, out var count));
        Assert.Equal((SlotControlAction.Move, "a", "new", 8192), (action, from, to, count));
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.SlotControl, body, 64));

        Assert.False(SlotControlRequest.TryRead(body.AsSpan(0, body.Length - 1), out _, out _, out _, out _));
        var unknownAction = (byte[])body.Clone();
        unknownAction[0] = 2;
        Assert.False(SlotControlRequest.TryRead(unknownAction, out _, out _, out _, out _));
        var tooMany = (byte[])body.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(tooMany.AsSpan(tooMany.Length - 4), 16385);
        Assert.False(SlotControlRequest.TryRead(tooMany, out _, out _, out _, out _));
        var badName = new byte[SlotControlRequest.BodyLength(1, 3)];
        SlotControlRequest.WriteBody(badName, SlotControlAction.Move, "a", "n w", 1);
        Assert.False(SlotControlRequest.TryRead(badName, out _, out _, out _, out _));
        Assert.Equal(StatusCode.ProtocolError, BodyValidator.Validate(Opcode.SlotControl, badName, 64));
        var empty = new byte[SlotControlRequest.BodyLength(0, 1)];
        SlotControlRequest.WriteBody(empty, SlotControlAction.Move, "", "b", 1);
        Assert.False(SlotControlRequest.TryRead(empty, out _, out _, out _, out _));
    }
}
