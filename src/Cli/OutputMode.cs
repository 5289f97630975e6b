namespace KvnDb.Cli;

/// <summary>How replies are printed: as redis-cli does on a terminal, raw bytes (<c>--raw</c>), or CSV (<c>--csv</c>).</summary>
internal enum OutputMode
{
    Formatted,
    Raw,
    Csv,
}
