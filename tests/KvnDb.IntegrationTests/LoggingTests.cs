using KvnDb.Hosting;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>The logging every program sets up (<c>-l FILE</c>): Serilog's async file sink, dated lines, no ASP.NET Core chatter.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task A_router_log_file_has_dated_lines_with_event_ids_and_no_aspnet_lines()
    {
        using var folder = new TempDirectory();
        var file = folder.PathOf("logs/router.log");
        var loggerFactory = Logging.Create(verbose: false, file);
        await using (var router = await RouterHost.StartAsync(new RouterOptions { Port = 0, HttpPort = 0 }, loggerFactory).WaitAsync(TestCluster.Timeout))
        {
            using var http = new HttpClient();
            for (var i = 0; i < 3; i++)
                await http.GetStringAsync(new Uri($"http://127.0.0.1:{router.HttpPort}/metrics")).WaitAsync(TestCluster.Timeout);
        }
        loggerFactory.Dispose(); // flushes the async sink

        var lines = await File.ReadAllLinesAsync(file);
        var listening = Assert.Single(lines, l => l.Contains("Router listening on", StringComparison.Ordinal));
        // 2026-12-01 16:07:02.123 +00:00 INFO KvnDb.Router.RouterHost[1] Listening on ...
        Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} [+-]\d{2}:\d{2} INFO KvnDb\.Router\.RouterHost\[\d+\] ", listening);
        Assert.DoesNotContain(lines, l => l.Contains("Now listening on", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Request starting", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Microsoft.", StringComparison.Ordinal));
    }

    [Fact]
    public void The_log_file_rolls_at_its_size_limit_and_keeps_a_bounded_number_of_files()
    {
        using var folder = new TempDirectory();
        var file = folder.PathOf("node.log");
        // The sink of -l FILE, with a small limit so the test writes little.
        using (var logger = Logging.FileLogger(file, verbose: false, fileSizeLimitBytes: 4096))
        {
            for (var i = 0; i < 2000; i++)
                logger.Information("line {Number} of a log that outgrows its file", i);
        }
        var files = Directory.GetFiles(folder.Path, "node*.log");
        Assert.Equal(Logging.FilesKept, files.Length);
        Assert.All(files, f => Assert.InRange(new FileInfo(f).Length, 1, 4096 + 100)); // the limit, give or take the line that reached it
    }
}
