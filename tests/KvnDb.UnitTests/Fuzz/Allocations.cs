namespace KvnDb.Fuzzing;

/// <summary>
/// Allocation checks for parsers fed by a peer: what a call allocates must follow the bytes it was
/// actually given, never a length or count the bytes merely claim.
/// </summary>
internal static class Allocations
{
    public static void AssertBounded(long allocated, long inputSize, int perInputByte, long constant, string what)
    {
        var budget = perInputByte * inputSize + constant;
        if (allocated > budget)
            throw new Xunit.Sdk.XunitException(
                $"{what} allocated {allocated} bytes for an input of {inputSize} bytes (budget {perInputByte} x input + {constant} = {budget})");
    }
}
