namespace KvnDb.Bench;

/// <summary>A failure worth one clear line to the user (refused handshake, server gone).</summary>
internal sealed class BenchException(string message) : Exception(message);
