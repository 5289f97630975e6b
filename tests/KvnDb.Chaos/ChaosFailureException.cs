namespace KvnDb.Chaos;

/// <summary>The run found a lost write or a cluster that does not recover: it stops at once and says why.</summary>
internal sealed class ChaosFailureException(string message) : Exception(message);
