namespace KvnDb.Bench;

/// <summary>A test named by <c>-t</c>.</summary>
internal enum TestKind
{
    Set,
    Get,
    Ping,
    /// <summary>Increment of a counter key (<c>ctr:</c> in place of <c>key:</c>), evaluated by the nodes.</summary>
    Incr,
    /// <summary>Set if absent, evaluated by the nodes.</summary>
    SetNx,
}
