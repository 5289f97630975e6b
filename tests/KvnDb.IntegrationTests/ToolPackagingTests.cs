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
        // AppContext.BaseDirectory is tests/KvnDb.IntegrationTests/bin/{Configuration}/{TargetFramework}/
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testOutput.Parent!.Name;
        var repository = testOutput.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var commands = new (string Project, string Package, string Command)[]
        {
            ("Router", "KvnDb.Router", "kvndb-router"),
            ("Node", "KvnDb.Node", "kvndb-node"),
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
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["NUGET_PACKAGES"] = packageCache;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Timeout);
        var text = await output.WaitAsync(Timeout) + await error.WaitAsync(Timeout);
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{text}");
        return text;
    }
}
