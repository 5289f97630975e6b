namespace KvnDb.Protocol;

public static class OpcodeExtensions
{
    /// <summary>A write the router sequences and fans out to every node (nodes answer each one, in order).</summary>
    public static bool IsSequencedWrite(this Opcode opcode) =>
        opcode is Opcode.Set or Opcode.Delete or Opcode.MultiSet or Opcode.MigrationApply or Opcode.FlushSlots || IsEvaluatedWrite(opcode);

    /// <summary>A write whose effect depends on the key's current state: its reply carries an outcome body.</summary>
    public static bool IsEvaluatedWrite(this Opcode opcode) => opcode is >= Opcode.SetWhen and <= Opcode.Batch;

    /// <summary>A client write (everything sequenced except the router's own time marks and migration writes).</summary>
    public static bool IsClientWrite(this Opcode opcode) => opcode.IsSequencedWrite() && opcode is not (Opcode.TimeMark or Opcode.MigrationApply or Opcode.FlushSlots);

    /// <summary>A read answered by one serving node; forwarded as a <see cref="TimedRead"/>.</summary>
    public static bool IsRead(this Opcode opcode) =>
        opcode is Opcode.Get or Opcode.Exists or Opcode.MultiGet or Opcode.ListKeys or Opcode.GetVersioned or Opcode.TimeToLive or Opcode.KeyCount
            or Opcode.ScanKeys;

    /// <summary>
    /// An operation that may be part of a <see cref="Opcode.Transaction"/> or <see cref="Opcode.Batch"/>: a write,
    /// or a one-key read (Get, Exists, GetVersioned, TimeToLive) answered with the transaction's view at its time.
    /// </summary>
    public static bool IsTransactionOperation(this Opcode opcode) =>
        opcode is Opcode.Set or Opcode.Delete or (>= Opcode.SetWhen and <= Opcode.SetRange) or Opcode.Expire
            or Opcode.GetExpire or Opcode.CopyKey
            or Opcode.Get or Opcode.Exists or Opcode.GetVersioned or Opcode.TimeToLive;

    /// <summary>A guarded batch of operations: <see cref="Opcode.Transaction"/> or <see cref="Opcode.Batch"/>.</summary>
    public static bool IsTransaction(this Opcode opcode) => opcode is Opcode.Transaction or Opcode.Batch;
}
