namespace KvnDb.Chaos;

internal sealed record ChaosOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public int Nodes { get; init; } = 3;

    public int Keys { get; init; } = 2000;

    public int Writers { get; init; } = 4;

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(2);

    public string Engine { get; init; } = "dir";

    public int Seed { get; init; } = Environment.TickCount;

    public string WorkDirectory { get; init; } = Path.Combine(Path.GetTempPath(), $"kvndb-chaos-{Environment.ProcessId}");
}
