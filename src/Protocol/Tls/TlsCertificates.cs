using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KvnDb.Protocol.Tls;

/// <summary>Loading certificates (PEM or PFX) and checking a peer's certificate against a CA or a pin.</summary>
public static class TlsCertificates
{
    /// <summary>A certificate with its private key: a PFX file, or a PEM certificate plus a PEM key (the key may be in the same file).</summary>
    public static X509Certificate2 LoadWithKey(string certificateFile, string? keyFile)
    {
        if (!certificateFile.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) && !certificateFile.EndsWith(".crt", StringComparison.OrdinalIgnoreCase))
            return X509CertificateLoader.LoadPkcs12FromFile(certificateFile, password: null);
        using var pem = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        // Re-import so the key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
    }

    public static X509Certificate2Collection LoadAuthorities(string caFile)
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(caFile);
        return authorities;
    }

    public static string Sha256(X509Certificate certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData()));

    /// <summary>
    /// Accepts the peer certificate if it matches the pin, or chains to one of <paramref name="authorities"/>
    /// (with the name check of the TLS layer), or — with neither — if the system trusts it.
    /// </summary>
    public static bool Validate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection? authorities, string? pinnedSha256)
    {
        if (certificate is null)
            return false;
        if (pinnedSha256 is not null)
            return string.Equals(Sha256(certificate), pinnedSha256.Replace(":", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        if (authorities is null)
            return errors == SslPolicyErrors.None;
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
