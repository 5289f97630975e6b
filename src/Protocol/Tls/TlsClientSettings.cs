namespace KvnDb.Protocol.Tls;

/// <summary>
/// How a client or node secures its connection to the router (<c>-t tls</c>). The router's
/// certificate is checked against <see cref="CaFile"/> when given, pinned by SHA-256 when
/// <see cref="PinnedSha256"/> is given, and otherwise against the system's trusted roots.
/// </summary>
public sealed record TlsClientSettings
{
    /// <summary>PEM file of the certificate authority (or the self-signed certificate) that signed the router's certificate.</summary>
    public string? CaFile { get; init; }

    /// <summary>Hex SHA-256 of the router certificate's DER bytes; when set, only that certificate is accepted.</summary>
    public string? PinnedSha256 { get; init; }

    /// <summary>Certificate (PEM or PFX) presented to a router that requires client certificates.</summary>
    public string? CertificateFile { get; init; }

    /// <summary>Private key (PEM) of <see cref="CertificateFile"/> when that is a PEM certificate.</summary>
    public string? KeyFile { get; init; }

    /// <summary>Name checked against the certificate; defaults to the host connected to.</summary>
    public string? ServerName { get; init; }
}
