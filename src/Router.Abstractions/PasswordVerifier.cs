using System.Security.Cryptography;
using System.Text;

namespace KvnDb.Router;

/// <summary>
/// Compares a presented password with the configured one in constant time. Both sides are hashed
/// first, so neither the content nor the length of the secret leaks through timing.
/// </summary>
internal sealed class PasswordVerifier(string expected)
{
    private readonly byte[] _expectedHash = SHA256.HashData(Encoding.UTF8.GetBytes(expected));

    public bool IsRequired { get; } = expected.Length > 0;

    public bool Verify(ReadOnlySpan<byte> presented)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(presented, hash);
        return CryptographicOperations.FixedTimeEquals(hash, _expectedHash);
    }
}
