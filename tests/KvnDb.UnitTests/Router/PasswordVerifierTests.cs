using System.Text;
using KvnDb.Router;

namespace KvnDb.UnitTests.Router;

public sealed class PasswordVerifierTests
{
    [Theory]
    [InlineData("secret", "secret", true)]
    [InlineData("secret", "secreT", false)]
    [InlineData("secret", "secret ", false)]
    [InlineData("secret", "secre", false)]
    [InlineData("secret", "", false)]
    [InlineData("", "", true)]
    [InlineData("", "anything", false)]
    [InlineData("pässwörd", "pässwörd", true)]
    public void Accepts_exactly_the_configured_password(string expected, string presented, bool accepted) =>
        Assert.Equal(accepted, new PasswordVerifier(expected).Verify(Encoding.UTF8.GetBytes(presented)));

    [Fact]
    public void Compares_fixed_size_hashes_so_length_and_prefix_cannot_leak()
    {
        // Verify hashes both sides to 32 bytes and compares them with CryptographicOperations.FixedTimeEquals:
        // the work does not depend on how much of the secret matches. Here: a long and a short wrong
        // password are refused the same way, and the verifier holds no copy of the secret itself.
        var verifier = new PasswordVerifier("correct horse battery staple");
        Assert.False(verifier.Verify(Encoding.UTF8.GetBytes(new string('c', 10_000))));
        Assert.False(verifier.Verify("c"u8));
        Assert.DoesNotContain(typeof(PasswordVerifier).GetFields(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance),
            f => f.FieldType == typeof(string));
        Assert.True(verifier.IsRequired);
    }
}
