using System.Net;
using System.Text;
using ReplayProxy.Diagnostics;

namespace ReplayProxy;

/// <summary>The one pooled HTTP client all requests share.</summary>
internal sealed class UpstreamClient : IDisposable
{
    public UpstreamClient(ReplayProxySettings settings, UpstreamCertificateValidation certificates)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            // Re-resolve DNS and rebalance across Amplitude's front ends now and then.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            // Below common upstream keep-alive timeouts (60 s at AWS load balancers), so a pooled connection is not
            // reused just as the other side closes it.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(10, settings.UpstreamTimeout.TotalSeconds)),
            // No trace context to a third party; also keeps System.Net.Http from tracing full URLs.
            ActivityHeadersPropagator = null,
            EnableMultipleHttp2Connections = true,
            // Kestrel decodes request header values as ASCII or else UTF-8; encoding them back the same way forwards
            // what the client sent. The default (ASCII only) made any non-ASCII value a 502.
            RequestHeaderEncodingSelector = static (_, _) => Encoding.UTF8,
        };
        handler.SslOptions.RemoteCertificateValidationCallback = certificates.OverrideCallback;
        Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();
}
