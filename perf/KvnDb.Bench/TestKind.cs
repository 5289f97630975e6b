namespace KvnDb.Bench;

/// <summary>A test named by <c>-t</c>.</summary>
internal enum TestKind
{
    Set,
    Get,
    Ping,
}
