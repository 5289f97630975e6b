namespace KvnDb.Bench;

/// <summary>Wire protocol spoken by the generator (<c>--protocol</c>).</summary>
internal enum BenchProtocol
{
    KvnDb,
    Resp,
}
