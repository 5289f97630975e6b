using System.Diagnostics;

namespace KvnDb.IntegrationTests;

/// <summary>The tool packages install with <c>dotnet tool install --tool-path</c> and their commands run.</summary>
public sealed class ToolPackagingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Packed_tools_install_into_a_tool_path_and_show_help()
    {
        using var work = new TempDirectory();
        var packages = Path.Combine(work.Path, "packages");
        var tools = Path.Combine(work.Path, "tools");
        // A private package cache, so the install takes the package just packed, never a cached one of the same version.
        var cache = Path.Combine(work.Path, "nuget-cache");
        // Only the folder we pack into: nothing is fetched from the network.
        var config = Path.Combine(work.Path, "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="packed" value="{packages}" />
              </packageSources>
            </configuration>
            """);

        // The projects are already built in the test's configuration (the test project references
        // them), so packing them without building keeps this test to a few seconds per tool.
        var configuration = ProgramPaths.Configuration;
        var repository = ProgramPaths.RepositoryRoot;
        var commands = new (string Project, string Package, string Command)[]
        {
            ("Router", "KvnDb.Router", "kvndb-router"),
            ("NodeHost", "KvnDb.Node", "kvndb-node"),
            ("Cli", "KvnDb.Cli", "kvndb"),
        };
        foreach (var (project, package, command) in commands)
        {
            var projectFile = Path.Combine(repository, "src", project, $"KvnDb.{project}.csproj");
            await RunAsync("dotnet", ["pack", projectFile, "-c", configuration, "--no-build", "-o", packages], cache);
            Assert.Single(Directory.GetFiles(packages, $"{package}.*.nupkg"));
            await RunAsync("dotnet", ["tool", "install", package, "--tool-path", tools, "--configfile", config], cache);
            var help = await RunAsync(Path.Combine(tools, command), ["--help"], cache);
            Assert.Contains(command, help);
            Assert.Contains("--help", help);
        }
    }

    private static async Task<string> RunAsync(string program, IEnumerable<string> arguments, string packageCache)
    {
        using var process = ChildProcess.Start(program, arguments, new ChildProcessOptions
        {
            Environment = new Dictionary<string, string?>
            {
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                ["DOTNET_NOLOGO"] = "1",
                ["NUGET_PACKAGES"] = packageCache,
            },
        });
        var exitCode = await process.WaitForExitAsync(Timeout);
        var text = process.Stdout + process.Stderr;
        Assert.True(exitCode == 0, $"{program} {string.Join(' ', arguments)} exited with {exitCode}:\n{text}");
        return text;
    }
}
