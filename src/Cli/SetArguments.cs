using KvnDb.Client;

namespace KvnDb.Cli;

/// <summary>The options of <c>set KEY VALUE [NX|XX] [EX SECONDS|PX MILLISECONDS] [KEEPTTL] [GET]</c>, as Redis spells them.</summary>
internal readonly record struct SetArguments(When When, TimeSpan? Expiry, bool KeepTtl, bool ReturnOldValue)
{
    /// <summary>No option: the plain set (it clears any expiry).</summary>
    public bool IsPlain => When == When.Always && Expiry is null && !KeepTtl && !ReturnOldValue;

    public static bool TryParse(byte[][] args, out SetArguments set, out string? problem)
    {
        set = new SetArguments(When.Always, null, false, false);
        problem = null;
        for (var i = 2; i < args.Length; i++)
        {
            switch (Commands.Text(args[i]).ToUpperInvariant())
            {
                case "NX" when set.When == When.Always:
                    set = set with { When = When.NotExists };
                    break;
                case "XX" when set.When == When.Always:
                    set = set with { When = When.Exists };
                    break;
                case "KEEPTTL" when set.Expiry is null:
                    set = set with { KeepTtl = true };
                    break;
                case "GET":
                    set = set with { ReturnOldValue = true };
                    break;
                case var unit and ("EX" or "PX") when set.Expiry is null && !set.KeepTtl && i + 1 < args.Length:
                    if (Commands.Duration(args[++i], unit == "EX" ? 1000 : 1) is not { } ttl || ttl <= TimeSpan.Zero)
                    {
                        problem = $"{unit} needs a positive number";
                        return false;
                    }
                    set = set with { Expiry = ttl };
                    break;
                default:
                    problem = $"set: unexpected '{Commands.Text(args[i])}' (NX|XX, EX SECONDS|PX MILLISECONDS, KEEPTTL, GET; each once)";
                    return false;
            }
        }
        return true;
    }
}
