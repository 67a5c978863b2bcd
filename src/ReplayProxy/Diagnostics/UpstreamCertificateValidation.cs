using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ReplayProxy.Diagnostics;

/// <summary>
/// How upstream TLS certificates are judged, shared by the forwarding client and <c>/healthz/upstreams</c> so that the
/// diagnostic reports exactly what forwarding would meet. The default is the platform's own validation (no callback);
/// only tests register an override, to trust a self-signed test certificate.
/// </summary>
internal sealed class UpstreamCertificateValidation(RemoteCertificateValidationCallback? overrideCallback = null)
{
    /// <summary>Null unless overridden: the HTTP client then validates as the platform does.</summary>
    public RemoteCertificateValidationCallback? OverrideCallback { get; } = overrideCallback;

    public bool IsTrusted(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        OverrideCallback?.Invoke(sender, certificate, chain, errors) ?? errors == SslPolicyErrors.None;
}
