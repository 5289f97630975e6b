using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>
/// The status page in a real browser: headless Chromium (Debian package <c>chromium</c>) loads it from a
/// running cluster, the test reads the DOM the page's script built (<c>--dump-dom</c>) and keeps a
/// screenshot in the test output (<c>screenshots/status-page.png</c>). Skipped, saying so, without Chromium.
/// </summary>
public sealed partial class StatusPageBrowserTests
{
    private static readonly string[] BrowserNames = ["chromium", "chromium-browser", "google-chrome"];
    private static readonly string? Chromium = FindChromium();

    private static string? FindChromium() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .SelectMany(dir => BrowserNames.Select(name => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);

    [SkippableFact]
    public async Task Chromium_shows_every_node_and_a_plot_that_moves_between_two_loads()
    {
        Skip.If(Chromium is null, "chromium is not installed (Debian/Ubuntu: apt-get install -y chromium); skipping the status page browser test");
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { HttpPort = 0 });
        await using var client = await cluster.ConnectAsync();
        using var http = new HttpClient();
        var page = new Uri($"http://127.0.0.1:{cluster.Router.HttpPort}/");
        using var profile = new TempDirectory("kvndb-chromium-");

        // Traffic while the router samples: the plots need points that saw requests.
        long lastSample = 0;
        await Eventually.WaitAsync(async () =>
        {
            for (var i = 0; i < 20; i++)
                await client.SetAsync($"k{i}", "v");
            lastSample = await LastSampleAsync(http, page);
            return lastSample > 0;
        }, what: "a first status sample");

        var first = await DumpDomAsync(page, profile.Path);
        var rows = NodeRow().Matches(first);
        Assert.True(rows.Count == 2, $"expected 2 node rows in the DOM:\n{first}");
        Assert.All(rows, row => Assert.Equal("serving", row.Groups["state"].Value));
        foreach (var node in cluster.Router.Cluster.Nodes.Connected)
            Assert.Contains(rows, row => row.Groups["id"].Value == node.Id.ToString(CultureInfo.InvariantCulture));
        Assert.Contains("class=\"badge ok\"", first, StringComparison.Ordinal);
        var (firstLast, firstPoints) = Plot(first, "ops-plot");
        Assert.True(firstPoints >= 1, $"the ops plot has no points:\n{first}");
        Assert.True(Plot(first, "p99-plot").Points >= 1, "the p99 plot has no points");

        // The next sample, then the second load: the plot ends later and has no fewer points.
        await Eventually.WaitAsync(async () =>
        {
            await client.SetAsync("tick", "v");
            return await LastSampleAsync(http, page) > firstLast;
        }, what: "a later status sample");
        var second = await DumpDomAsync(page, profile.Path);
        var (secondLast, secondPoints) = Plot(second, "ops-plot");
        Assert.True(secondLast > firstLast, $"the plot did not move: last point {firstLast}, then {secondLast}");
        Assert.True(secondPoints >= firstPoints);

        var screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(screenshots);
        var png = Path.Combine(screenshots, "status-page.png");
        File.Delete(png);
        await RunChromiumAsync(profile.Path, "--window-size=1280,900", $"--screenshot={png}", page.ToString());
        var bytes = await File.ReadAllBytesAsync(png);
        Assert.True(bytes.Length > 1000 && bytes[1] == (byte)'P' && bytes[2] == (byte)'N' && bytes[3] == (byte)'G', "no PNG screenshot");
    }

    private static async Task<long> LastSampleAsync(HttpClient http, Uri page)
    {
        using var status = JsonDocument.Parse(await http.GetStringAsync(new Uri(page, "status.json")).WaitAsync(TestCluster.Timeout));
        var times = status.RootElement.GetProperty("series").GetProperty("t");
        return times.GetArrayLength() == 0 ? 0 : times[times.GetArrayLength() - 1].GetInt64();
    }

    private static Task<string> DumpDomAsync(Uri page, string profile) => RunChromiumAsync(profile, "--dump-dom", page.ToString());

    private static async Task<string> RunChromiumAsync(string profile, params string[] arguments)
    {
        // As root (CI) Chromium needs --no-sandbox; a profile of its own keeps runs apart.
        string[] common = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
            $"--user-data-dir={profile}", "--virtual-time-budget=2000"];
        using var chromium = ChildProcess.Start(Chromium!, [.. common, .. arguments]);
        var exitCode = await chromium.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.True(exitCode == 0, $"chromium exited with {exitCode}\n{chromium.Output}");
        return chromium.Stdout;
    }

    private static (long Last, int Points) Plot(string dom, string id)
    {
        var match = Regex.Match(dom, $"<svg id=\"{id}\"[^>]*>");
        Assert.True(match.Success, $"no {id} in the DOM");
        var points = Regex.Match(match.Value, "data-points=\"(\\d+)\"");
        var last = Regex.Match(match.Value, "data-last=\"(\\d+)\"");
        Assert.True(points.Success && last.Success, $"{id} was not drawn: {match.Value}");
        return (long.Parse(last.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(points.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex("<tr data-node=\"(?<id>\\d+)\" data-state=\"(?<state>[a-z]+)\">")]
    private static partial Regex NodeRow();
}
