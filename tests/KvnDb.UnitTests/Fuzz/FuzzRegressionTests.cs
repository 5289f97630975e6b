using KvnDb.Fuzzing;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Fuzz;

/// <summary>
/// Inputs the fuzzers found failing, kept as they were printed (or minimised by hand), replayed
/// through the same checks. The processor is seeded with four 3,000-byte values under keys 00..03
/// and a frame limit of 8 KiB (see <see cref="RequestProcessorFuzzTests"/>).
/// </summary>
public sealed class FuzzRegressionTests
{
    /// <summary>
    /// SnapshotRead with a budget of 147,286 bytes over the seeded store: the donor wrote a 12,106-byte
    /// chunk, above the frame limit, so the router dropped the donor (and every later donor).
    /// </summary>
    [Fact]
    public void SnapshotRead_with_a_budget_above_the_frame_limit_stays_under_it() =>
        RequestProcessorFuzzTests.Run(FuzzInput.FromHex("0C000000331800000200000000000000F11BA5022F7A0700563F0200"));

    /// <summary>
    /// MultiGet of three seeded keys: each value fits a frame, the three together (9,037 bytes) do not,
    /// and the router dropped the node, then the node it retried on. Found as a longer input; minimised by hand.
    /// </summary>
    [Fact]
    public void MultiGet_whose_reply_would_exceed_the_frame_limit_is_refused()
    {
        var body = new byte[4 + 3 * 5];
        body[0] = 3;
        for (var i = 0; i < 3; i++)
        {
            body[4 + i * 5] = 1; // field length 1
            body[8 + i * 5] = (byte)i; // key 0x0i
        }
        RequestProcessorFuzzTests.Run(new FuzzInput(FrameGen.Encode(Opcode.MultiGet, FrameFlags.None, 77, body), []));
    }
}
