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
        Assert.Equal(RespCommand.SetEx, RespCommandTable.Lookup("psetex"u8));
        Assert.Equal(RespCommand.Unknown, RespCommandTable.Lookup("GETX"u8));
        Assert.Equal(RespCommand.Unknown, RespCommandTable.Lookup(""u8));
    }

    [Theory]
    [InlineData("GET", 2, true)]
    [InlineData("GET", 3, false)]
    [InlineData("DEL", 1, false)]
    [InlineData("DEL", 9, true)]
    [InlineData("PING", 1, true)]
    public void Arity_is_checked_like_redis(string name, int count, bool accepted) =>
        Assert.Equal(accepted, RespCommandTable.Info(RespCommandTable.Lookup(Encoding.ASCII.GetBytes(name))).AcceptsArity(count));
}
