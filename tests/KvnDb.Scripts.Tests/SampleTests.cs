using System.Text;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using KvnDb.Client;
using KvnDb.Router;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace KvnDb.Scripts.Tests;

/// <summary>Every script in samples/, run as users run it, against a real router with two nodes.</summary>
public sealed class SampleTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Timeout = ClusterFixture.Timeout;

    private static string Sample(string name) => Path.Combine(ScriptProcess.SamplesDirectory, name);

    [Fact]
    public async Task Import_csv_stores_each_row_and_reports_malformed_ones()
    {
        using var temp = new TempDirectory();
        var rows = Enumerable.Range(0, 2500).Select(i => $"{i},\"name, {i}\",{i * 2}");
        var csv = temp.Write("people.csv", "id,name,score\n" + string.Join("\n", rows) + "\n9999,only two\n7777,\"quoted \"\"x\"\"\nline two\",1\n");

        var result = await ScriptProcess.RunHostAsync([Sample("import.csx"), .. cluster.HostArgs(cluster.SharedCache), "--", csv, "--prefix", "csv/", "--batch", "300"]);

        Assert.True(result.ExitCode == 2, result.ToString()); // 2: something was skipped
        Assert.Contains("imported 2,501 records", result.Stdout);
        Assert.Contains("skipped 1 malformed records", result.Stdout);
        Assert.Contains("people.csv(2502): skipped: 2 fields, the header has 3", result.Stderr);
        Assert.Contains("100 %", result.Stderr); // the progress bar reached its end
        var row = JsonNode.Parse((await cluster.Client.GetStringAsync("csv/1234").AsTask().WaitAsync(Timeout))!)!;
        Assert.Equal("name, 1234", (string?)row["name"]);
        Assert.Equal("2468", (string?)row["score"]);
        var multiLine = JsonNode.Parse((await cluster.Client.GetStringAsync("csv/7777").AsTask().WaitAsync(Timeout))!)!;
        Assert.Equal("quoted \"x\"\nline two", (string?)multiLine["name"]);
        Assert.False(await cluster.Client.ExistsAsync("csv/9999").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Import_csv_with_two_columns_stores_the_text_and_honours_the_key_column()
    {
        using var temp = new TempDirectory();
        var csv = temp.Write("pairs.csv", "value,name\nred,apple\nyellow,banana\n");

        var result = await ScriptProcess.RunHostAsync([Sample("import.csx"), .. cluster.HostArgs(cluster.SharedCache), "--", csv, "--key", "name", "--prefix", "fruit/"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("red", await cluster.Client.GetStringAsync("fruit/apple").AsTask().WaitAsync(Timeout));
        Assert.Equal("yellow", await cluster.Client.GetStringAsync("fruit/banana").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Export_then_import_json_lines_copies_a_prefix_exactly_including_binary_values()
    {
        using var temp = new TempDirectory();
        var pairs = Enumerable.Range(0, 1200)
            .Select(i => KeyValuePair.Create((ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes($"exp/{i:D4}"), (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes($"value \"{i}\" ü")))
            .Append(KeyValuePair.Create((ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes("exp/binary"), (ReadOnlyMemory<byte>)new byte[] { 0, 0xFF, 0xFE, 10 }))
            .ToArray();
        await cluster.Client.MultiSetAsync(pairs).WaitAsync(Timeout);
        await cluster.Client.SetAsync("other/not-exported", "x").AsTask().WaitAsync(Timeout);
        var file = Path.Combine(temp.Path, "exp.jsonl");

        var export = await ScriptProcess.RunHostAsync([Sample("export.csx"), .. cluster.HostArgs(cluster.SharedCache), "--", "--prefix", "exp/", "--out", file, "--batch", "100"]);
        var import = await ScriptProcess.RunHostAsync([Sample("import.csx"), .. cluster.HostArgs(cluster.SharedCache), "--", file, "--prefix", "copy/"]);

        Assert.True(export.ExitCode == 0, export.ToString());
        var lines = await File.ReadAllLinesAsync(file);
        Assert.Equal(1201, lines.Length);
        Assert.Contains("{\"key\":\"exp/0042\",\"value\":\"value \\\"42\\\" ü\"}", lines);
        Assert.Contains("{\"key\":\"exp/binary\",\"value_base64\":\"AP/+Cg==\"}", lines);
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains("imported 1,201 records", import.Stdout);
        foreach (var (key, value) in pairs)
        {
            var copy = await cluster.Client.GetAsync("copy/" + Encoding.UTF8.GetString(key.Span)).AsTask().WaitAsync(Timeout);
            Assert.Equal(value.ToArray(), copy);
        }
        Assert.False(await cluster.Client.ExistsAsync("copy/other/not-exported").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Export_to_standard_output_and_import_skips_bad_json_lines()
    {
        using var temp = new TempDirectory();
        await cluster.Client.MultiSetStringsAsync([new("stdout/a", "1"), new("stdout/b", "{\"x\":1}")]).WaitAsync(Timeout);
        var jsonl = temp.Write("in.jsonl", "{\"key\":\"k1\",\"value\":\"v1\"}\nnot json\n{\"key\":\"k2\",\"value\":{\"n\":2}}\n{\"id\":7}\n");

        var export = await ScriptProcess.RunHostAsync([Sample("export.csx"), .. cluster.HostArgs(cluster.SharedCache), "--", "--prefix", "stdout/"]);
        var import = await ScriptProcess.RunHostAsync([Sample("import.csx"), .. cluster.HostArgs(cluster.SharedCache), "--", jsonl, "--prefix", "jl/"]);

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Equal(["{\"key\":\"stdout/a\",\"value\":\"1\"}", "{\"key\":\"stdout/b\",\"value\":\"{\\\"x\\\":1}\"}"],
            export.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        Assert.True(import.ExitCode == 2, import.ToString());
        Assert.Contains("in.jsonl(2): skipped: not JSON", import.Stderr);
        Assert.Contains("in.jsonl(4): skipped: no \"key\" field", import.Stderr);
        Assert.Equal("v1", await cluster.Client.GetStringAsync("jl/k1").AsTask().WaitAsync(Timeout));
        Assert.Equal("{\"n\":2}", await cluster.Client.GetStringAsync("jl/k2").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Count_groups_keys_and_bytes_by_prefix()
    {
        using var temp = new TempDirectory();
        var pairs = Enumerable.Range(0, 30).Select(i => KeyValuePair.Create($"cnt:user:{i:D2}", "12345"))
            .Concat(Enumerable.Range(0, 4).Select(i => KeyValuePair.Create($"cnt:order:{i}", "1234567890")))
            .Append(KeyValuePair.Create("cnt:lonely", "x"))
            .ToArray();
        await cluster.Client.MultiSetStringsAsync(pairs).WaitAsync(Timeout);

        var result = await ScriptProcess.RunHostAsync([Sample("count.csx"), .. cluster.HostArgs(cluster.SharedCache), "--", "--prefix", "cnt:", "--depth", "2"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var table = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(f => f[0], f => f[1..]);
        Assert.Equal(["30", "330", "150"], table["cnt:user:"]);   // 30 keys of 11 bytes, values of 5
        Assert.Equal(["4", "44", "40"], table["cnt:order:"]);
        Assert.Equal(["1", "10", "1"], table["(other)"]);
        Assert.Equal(["35", "384", "191"], table["total"]);
    }

    [Fact]
    public async Task Health_check_reports_each_node_and_passes_on_a_healthy_cluster()
    {
        await cluster.Client.MultiSetStringsAsync([new("health/a", "1"), new("health/b", "2")]).WaitAsync(Timeout);

        var result = await ScriptProcess.RunHostAsync([Sample("health.csx"), .. cluster.HostArgs(cluster.SharedCache), "--", "--min-nodes", "2", "--probe", "yes"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var digests = Regex.Matches(result.Stdout, @"node\d+ +serving .* digest ([0-9a-f]{16})").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, digests.Count);
        Assert.Equal(digests[0], digests[1]);
        Assert.NotEqual("0000000000000000", digests[0]);
        Assert.Contains("probe    write/read/delete ok", result.Stdout);
        Assert.Contains("HEALTHY", result.Stdout);
        Assert.DoesNotContain("UNHEALTHY", result.Stdout);
    }

    [Fact]
    public async Task Health_check_exits_non_zero_when_replicas_disagree()
    {
        await using var replicas = await TestCluster.StartAsync(nodes: 2).WaitAsync(Timeout);
        await using (var client = await replicas.ConnectAsync().WaitAsync(Timeout))
            await client.MultiSetStringsAsync([new("same/1", "x"), new("same/2", "y")]).WaitAsync(Timeout);
        var port = replicas.Router.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var agreeing = await ScriptProcess.RunHostAsync([Sample("health.csx"), "--port", port, "--cache-dir", cluster.SharedCache]);

        // One replica changed behind the router's back, as a bug or a bad disk would.
        var engine = replicas.Nodes[0].Engine;
        engine.Set("rogue"u8, "x"u8, engine.LastSequence);
        var disagreeing = await ScriptProcess.RunHostAsync([Sample("health.csx"), "--port", port, "--cache-dir", cluster.SharedCache]);

        Assert.True(agreeing.ExitCode == 0, agreeing.ToString());
        Assert.True(disagreeing.ExitCode == 2, disagreeing.ToString());
        Assert.Contains("PROBLEM: serving replicas disagree: ", disagreeing.Stdout);
        Assert.Contains("3 keys/", disagreeing.Stdout);
        Assert.Contains("UNHEALTHY", disagreeing.Stdout);
    }

    [Fact]
    public async Task Health_check_exits_non_zero_with_too_few_nodes_or_none()
    {
        using var temp = new TempDirectory();
        await using var empty = await RouterHost.StartAsync(new RouterOptions { Port = 0 }).WaitAsync(Timeout);

        var tooFew = await ScriptProcess.RunHostAsync([Sample("health.csx"), .. cluster.HostArgs(cluster.SharedCache), "--", "--min-nodes", "3"]);
        var none = await ScriptProcess.RunHostAsync([Sample("health.csx"), "--port", empty.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cache-dir", cluster.SharedCache, "--", "--probe", "yes"]);

        Assert.True(tooFew.ExitCode == 2, tooFew.ToString());
        Assert.Contains("PROBLEM: 2 node(s) connected, at least 3 wanted", tooFew.Stdout);
        Assert.Contains("UNHEALTHY", tooFew.Stdout);
        Assert.True(none.ExitCode == 2, none.ToString());
        Assert.Contains("PROBLEM: 0 node(s) connected, at least 1 wanted", none.Stdout);
    }

    [Fact]
    public async Task Roundtrip_csx_runs_under_kvndb_script_with_its_own_client_reference()
    {
        using var temp = new TempDirectory();

        // samples/lib/ need not exist: the host binds #r "lib/KvnDb.Client.dll" to its own client.
        var result = await ScriptProcess.RunHostAsync([Sample("roundtrip.csx"), "--cache-dir", cluster.SharedCache, "--", $"127.0.0.1:{cluster.Port}"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("roundtrip ok", result.Stdout);
    }

    [Fact]
    public async Task Roundtrip_csx_runs_unchanged_the_way_dotnet_script_runs_it()
    {
        using var temp = new TempDirectory();
        var script = CopySampleWithClientLibrary("roundtrip.csx", temp);
        var output = new StringWriter();
        var console = Console.Out;

        // dotnet-script: Roslyn scripting, #r and #load relative to the script, globals with only Args.
        var options = ScriptOptions.Default
            .WithFilePath(script)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(Path.GetDirectoryName(script)!))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(Path.GetDirectoryName(script)!))
            .WithImports("System", "System.Linq", "System.Threading.Tasks", "System.Collections.Generic", "System.IO");
        Console.SetOut(output);
        try
        {
            await CSharpScript.RunAsync(await File.ReadAllTextAsync(script), options, new DotnetScriptGlobals([$"127.0.0.1:{cluster.Port}"]), typeof(DotnetScriptGlobals))
                .WaitAsync(Timeout);
        }
        finally
        {
            Console.SetOut(console);
        }

        Assert.Contains("roundtrip ok", output.ToString());
    }

    [Fact]
    public async Task Roundtrip_fsx_runs_under_plain_dotnet_fsi()
    {
        using var temp = new TempDirectory();
        var script = CopySampleWithClientLibrary("roundtrip.fsx", temp);

        var result = await ScriptProcess.RunAsync(["fsi", "--quiet", script, $"127.0.0.1:{cluster.Port}"], temp.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("a = Some \"1\", nope = None", result.Stdout);
        Assert.Contains("roundtrip ok", result.Stdout);
    }

    [Fact]
    public async Task Keys_fsx_lists_a_prefix_through_kvndb_script()
    {
        using var temp = new TempDirectory();
        await cluster.Client.MultiSetStringsAsync([new("fkeys/a", "1"), new("fkeys/bb", "22"), new("fkeysx", "no")]).WaitAsync(Timeout);

        var result = await ScriptProcess.RunHostAsync([Sample("keys.fsx"), .. cluster.HostArgs(cluster.SharedCache), "--", "fkeys/"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("fkeys/a\t1 bytes", result.Stdout);
        Assert.Contains("fkeys/bb\t2 bytes", result.Stdout);
        Assert.DoesNotContain("fkeysx", result.Stdout);
        Assert.Contains("2 keys", result.Stdout);
    }

    /// <summary>
    /// Copies a sample into a folder with lib/ holding the client as `dotnet publish src/Client.FSharp -o samples/lib`
    /// would: the client, its protocol assembly, its package dependency and the F# extensions.
    /// </summary>
    private static string CopySampleWithClientLibrary(string sample, TempDirectory temp)
    {
        var lib = Path.Combine(temp.Path, "lib");
        Directory.CreateDirectory(lib);
        var assemblies = new[]
        {
            typeof(KvnDbClient).Assembly, typeof(KvnDb.Protocol.WriteConcern).Assembly, typeof(Microsoft.Extensions.ObjectPool.ObjectPool).Assembly,
            typeof(KvnDb.Client.FSharp.KvnDbClientExtensions).Assembly,
        };
        foreach (var assembly in assemblies)
            File.Copy(assembly.Location, Path.Combine(lib, Path.GetFileName(assembly.Location)));
        var script = Path.Combine(temp.Path, sample);
        File.Copy(Sample(sample), script);
        return script;
    }
}
