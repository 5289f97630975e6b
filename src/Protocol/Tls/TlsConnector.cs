using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace KvnDb.Protocol.Tls;

/// <summary>Wraps a connected stream in TLS as a client (used by the client library and by nodes).</summary>
public static class TlsConnector
{
    public static async Task<SslStream> AuthenticateAsync(Stream inner, string host, TlsClientSettings settings, CancellationToken cancellationToken)
    {
        var authorities = settings.CaFile is null ? null : TlsCertificates.LoadAuthorities(settings.CaFile);
        var clientCertificates = settings.CertificateFile is null
            ? null
            : new X509CertificateCollection { TlsCertificates.LoadWithKey(settings.CertificateFile, settings.KeyFile) };
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = settings.ServerName ?? host,
                ClientCertificates = clientCertificates,
                EnabledSslProtocols = SslProtocols.None, // the system's secure defaults (TLS 1.2/1.3)
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    TlsCertificates.Validate(certificate, errors, authorities, settings.PinnedSha256),
            }, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
