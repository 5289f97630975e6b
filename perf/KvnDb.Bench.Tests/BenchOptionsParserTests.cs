using KvnDb.Protocol;
using KvnDb.Transport;

namespace KvnDb.Bench.Tests;

public sealed class BenchOptionsParserTests
{
    [Fact]
    public void RedisBenchmarkFlagsKeepTheirMeaning()
    {
        var options = BenchOptionsParser.Parse(
            ["-h", "10.0.0.1", "-p", "7000", "-c", "8", "-n", "5000", "-d", "100", "-P", "16", "-t", "get,SET", "-r", "1000", "-a", "pw", "-q", "--csv", "--protocol", "resp"],
            out var error);
        Assert.Null(error);
        Assert.NotNull(options);
        Assert.Equal("10.0.0.1", options.Host);
        Assert.Equal(7000, options.EffectivePort);
        Assert.Equal(8, options.Clients);
        Assert.Equal(5000, options.Requests);
        Assert.Equal(100, options.DataSize);
        Assert.Equal(16, options.Pipeline);
        Assert.Equal([TestKind.Get, TestKind.Set], options.Tests);
        Assert.Equal(1000, options.Keyspace);
        Assert.Equal("pw", options.Password);
        Assert.True(options.Quiet && options.Csv);
        Assert.Equal(BenchProtocol.Resp, options.Protocol);
    }

    [Fact]
    public void DefaultsFollowRedisBenchmarkAndTheProtocolsPort()
    {
        var options = BenchOptionsParser.Parse([], out _)!;
        Assert.Equal((50, 100_000L, 3, 1), (options.Clients, options.Requests, options.DataSize, options.Pipeline));
        Assert.Equal(ProtocolLimits.DefaultPort, options.EffectivePort);
        Assert.Equal(6379, (options with { Protocol = BenchProtocol.Resp }).EffectivePort);
    }

    [Theory]
    [InlineData("-c", "0")]
    [InlineData("-n", "-5")]
    [InlineData("-P", "x")]
    [InlineData("-t", "lpush")]
    [InlineData("--protocol", "memcached")]
    [InlineData("--bogus", "1")]
    [InlineData("--io-engine", "iouring")]
    [InlineData("--threads", "0")]
    public void BadInputGetsAClearErrorNamingTheFlag(string flag, string value)
    {
        Assert.Null(BenchOptionsParser.Parse([flag, value], out var error));
        Assert.NotNull(error);
        Assert.Contains(flag, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSocketEngineAndItsThreadsAreChosenByFlag()
    {
        var options = BenchOptionsParser.Parse(["--io-engine", "sockets", "--threads", "3"], out var error)!;
        Assert.Null(error);
        Assert.Equal((IoEngine.Sockets, 3), (options.IoEngine, options.Threads));
        Assert.Equal((EpollNative.DefaultEngine, 1), (new BenchOptions().IoEngine, new BenchOptions().Threads));
    }

    [Fact]
    public void AFlagWithoutItsValueIsAnError()
    {
        Assert.Null(BenchOptionsParser.Parse(["-n"], out var error));
        Assert.Contains("-n needs a value", error, StringComparison.Ordinal);
    }

    [Fact]
    public void HelpIsNotAnError()
    {
        Assert.Null(BenchOptionsParser.Parse(["--help"], out var error));
        Assert.Null(error);
    }
}
