namespace KvnDb.Protocol;

public static class OpcodeExtensions
{
    /// <summary>A write the router sequences and fans out to every node (nodes answer each one, in order).</summary>
    public static bool IsSequencedWrite(this Opcode opcode) => opcode is Opcode.Set or Opcode.Delete or Opcode.MultiSet;
}
