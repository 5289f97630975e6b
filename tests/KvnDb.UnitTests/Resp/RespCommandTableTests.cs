using System.Text;
using KvnDb.Resp;

namespace KvnDb.UnitTests.Resp;

public sealed class RespCommandTableTests
{
    [Fact]
    public void Every_command_has_its_entry_and_is_found_by_name_in_any_case()
    {
        foreach (var command in Enum.GetValues<RespCommand>().Where(c => c != RespCommand.Unknown))
        {
            var info = RespCommandTable.Info(command);
            Assert.Equal(command, info.Command);
            Assert.Equal(command, RespCommandTable.Lookup(Encoding.ASCII.GetBytes(info.Name)));
            Assert.Equal(command, RespCommandTable.Lookup(Encoding.ASCII.GetBytes(info.Name.ToUpperInvariant())));
        }
        Assert.Equal(RespCommand.PSetEx, RespCommandTable.Lookup("psetex"u8));
        Assert.Equal(RespCommand.GetRange, RespCommandTable.Lookup("SubStr"u8));
        Assert.Equal(RespCommand.Unknown, RespCommandTable.Lookup("GETX"u8));
        Assert.Equal(RespCommand.Unknown, RespCommandTable.Lookup(""u8));
    }

    [Theory]
    [InlineData("GET", 2, true)]
    [InlineData("GET", 3, false)]
    [InlineData("DEL", 1, false)]
    [InlineData("DEL", 9, true)]
    [InlineData("PING", 1, true)]
    [InlineData("SET", 3, true)]
    [InlineData("GETEX", 2, true)]
    [InlineData("EXPIRE", 2, false)]
    [InlineData("EXPIRE", 5, true)]
    [InlineData("RENAME", 3, true)]
    [InlineData("EXEC", 2, false)]
    public void Arity_is_checked_like_redis(string name, int count, bool accepted) =>
        Assert.Equal(accepted, RespCommandTable.Info(RespCommandTable.Lookup(Encoding.ASCII.GetBytes(name))).AcceptsArity(count));

    [Fact]
    public void Commands_that_list_or_flush_the_keyspace_cannot_be_queued_by_multi()
    {
        Assert.True(RespCommandTable.Info(RespCommand.Incr).Queueable);
        Assert.True(RespCommandTable.Info(RespCommand.Rename).Queueable);
        Assert.False(RespCommandTable.Info(RespCommand.FlushAll).Queueable);
        Assert.False(RespCommandTable.Info(RespCommand.Keys).Queueable);
        Assert.True(RespCommandTable.Info(RespCommand.Unsubscribe).AllowedWhenSubscribed);
        Assert.False(RespCommandTable.Info(RespCommand.Get).AllowedWhenSubscribed);
    }
}
