using System.Globalization;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>
/// The health options of issue 12 (router: <c>--data</c>, <c>--heartbeat</c>, <c>--node-timeout</c>,
/// <c>--node-evict</c>; node: <c>--router-timeout</c>). They do not exist before the fix, so they are
/// passed only when <see cref="HealthOptions"/> is on: flip <see cref="HealthOptionsByDefault"/> once
/// the fix is merged, or set <c>KVNDB_FAULT_HEALTH=1</c> (or 0) for one run. <c>KVNDB_FAULT_ROUTER_ARGS</c>
/// and <c>KVNDB_FAULT_NODE_ARGS</c> append further arguments (space separated) either way. The timing
/// targets the scenarios check are the defaults, whatever is passed.
/// </summary>
internal static class FaultSettings
{
    /// <summary>False until the router and node accept the options of issue 12.</summary>
    public const bool HealthOptionsByDefault = true;

    public static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan NodeEvict = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan RouterTimeout = TimeSpan.FromSeconds(3);

    /// <summary>A node's longest reconnect backoff (NodeOptions.MaxReconnectDelay's default).</summary>
    public static readonly TimeSpan NodeMaxBackoff = TimeSpan.FromSeconds(5);

    public static bool HealthOptions => Environment.GetEnvironmentVariable("KVNDB_FAULT_HEALTH") switch
    {
        "1" or "true" => true,
        "0" or "false" => false,
        _ => HealthOptionsByDefault,
    };

    /// <summary>"after" when the health options are passed, "before" when not (for the results).</summary>
    public static string Label => HealthOptions ? "health options" : "no health options";

    public static IEnumerable<string> RouterArguments(string dataDirectory)
    {
        if (HealthOptions)
        {
            yield return "--data";
            yield return dataDirectory;
            yield return "--heartbeat";
            yield return Heartbeat.TotalMilliseconds.ToString(CultureInfo.InvariantCulture); // milliseconds, as the option says
            yield return "--node-timeout";
            yield return Seconds(NodeTimeout);
            yield return "--node-evict";
            yield return Seconds(NodeEvict);
        }
        foreach (var extra in Extra("KVNDB_FAULT_ROUTER_ARGS"))
            yield return extra;
    }

    public static IEnumerable<string> NodeArguments()
    {
        if (HealthOptions)
        {
            yield return "--router-timeout";
            yield return Seconds(RouterTimeout);
        }
        foreach (var extra in Extra("KVNDB_FAULT_NODE_ARGS"))
            yield return extra;
    }

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString(CultureInfo.InvariantCulture);

    private static string[] Extra(string variable) =>
        (Environment.GetEnvironmentVariable(variable) ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
