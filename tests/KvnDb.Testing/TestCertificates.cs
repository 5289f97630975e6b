using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KvnDb.Testing;

/// <summary>Self-signed certificates written as PEM files (certificate and key) in a temp folder.</summary>
public sealed class TestCertificates : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kvndb-tls-").FullName;

    /// <summary>Writes a self-signed certificate for localhost/127.0.0.1/::1; returns (certificate file, key file, SHA-256).</summary>
    public (string Certificate, string Key, string Sha256) Create(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var certificateFile = Path.Combine(_folder, $"{name}.pem");
        var keyFile = Path.Combine(_folder, $"{name}.key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certificateFile, keyFile, Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
