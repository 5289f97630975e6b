using KvnDb.Cli;

namespace KvnDb.UnitTests.Cli;

public sealed class HistoryFileTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void The_history_file_is_created_private_and_a_wider_one_is_narrowed()
    {
        if (OperatingSystem.IsWindows())
            return;
        using var folder = new TempDirectory();
        var path = folder.PathOf("history");
        var history = new HistoryFile(path);
        history.Append("set secret value");
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal(["set secret value"], history.Load(10));

        File.SetUnixFileMode(path, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        history.Append("get secret");
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal(["set secret value", "get secret"], history.Load(10));
    }
}
