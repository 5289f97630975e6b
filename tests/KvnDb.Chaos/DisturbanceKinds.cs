namespace KvnDb.Chaos;

/// <summary>Names of <see cref="DisturbanceKind"/> on the command line and in the log.</summary>
internal static class DisturbanceKinds
{
    public static IReadOnlyList<DisturbanceKind> All { get; } = Enum.GetValues<DisturbanceKind>();

    public static string Name(DisturbanceKind kind) => kind switch
    {
        DisturbanceKind.Kill => "kill",
        DisturbanceKind.Reset => "reset",
        DisturbanceKind.RouterKill => "router-kill",
        DisturbanceKind.Freeze => "freeze",
        DisturbanceKind.RouterFreeze => "router-freeze",
        DisturbanceKind.Cut => "cut",
        DisturbanceKind.CutAll => "cut-all",
        DisturbanceKind.Late => "late",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Parses "freeze,cut,router-kill"; "all" is every kind.</summary>
    public static IReadOnlyList<DisturbanceKind> Parse(string list)
    {
        var kinds = new List<DisturbanceKind>();
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (name == "all")
                kinds.AddRange(All);
            else
                kinds.Add(All.Where(k => Name(k) == name).Cast<DisturbanceKind?>().FirstOrDefault()
                    ?? throw new ArgumentException($"unknown disturbance '{name}' (known: all, {string.Join(", ", All.Select(Name))})"));
        }
        return kinds.Count > 0 ? [.. kinds.Distinct()] : throw new ArgumentException("--faults names no disturbance");
    }
}
