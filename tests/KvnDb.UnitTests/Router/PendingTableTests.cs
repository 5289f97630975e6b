using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.UnitTests.Router;

public sealed class PendingTableTests
{
    private static readonly FrameHeader Get = new(0, Opcode.Get, FrameFlags.None, StatusCode.Ok, 7);

    [Fact]
    public void A_reply_finds_its_request_and_a_late_reply_for_a_previous_use_of_the_slot_does_not()
    {
        var table = new PendingTable(capacity: 4);
        var request = table.Rent()!;
        request.Begin(PendingKind.Read, client: null, Get);
        var firstId = request.Id;
        Assert.Same(request, table.Find(firstId));
        table.Finish(request);
        Assert.Null(table.Find(firstId));

        var again = table.Rent()!;
        again.Begin(PendingKind.Read, client: null, Get);
        Assert.Same(request, again); // the slot is reused...
        Assert.NotEqual(firstId, again.Id); // ...under a new generation
        Assert.Null(table.Find(firstId));
        Assert.Same(again, table.Find(again.Id));
    }

    [Fact]
    public void Ids_never_carry_the_control_bit_of_node_link_traffic_and_are_never_zero()
    {
        var table = new PendingTable(capacity: 1);
        var request = table.Rent()!;
        for (var i = 0; i < 100_000; i++)
        {
            request.Begin(PendingKind.Write, client: null, Get);
            Assert.Equal(0UL, request.Id & SyncMessages.ControlIdBit);
            Assert.NotEqual(0UL, request.Id);
            request.End();
        }
    }

    [Fact]
    public void The_table_grows_to_its_capacity_then_refuses()
    {
        var table = new PendingTable(capacity: 300);
        var rented = Enumerable.Range(0, 300).Select(_ => table.Rent()).ToList();
        Assert.All(rented, Assert.NotNull);
        Assert.Equal(300, rented.Distinct().Count());
        Assert.Null(table.Rent());
        Assert.Equal(300, table.InUse);
        table.Return(rented[0]!);
        Assert.NotNull(table.Rent());
    }
}
