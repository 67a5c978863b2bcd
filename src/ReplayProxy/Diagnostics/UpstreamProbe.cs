using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace ReplayProxy.Diagnostics;

/// <summary>What one check of one upstream host found. Errors are kinds (enum names), never exception messages.</summary>
internal sealed record UpstreamProbeResult(
    UpstreamTarget Target,
    StepResult Dns,
    int AddressCount,
    StepResult Connect,
    StepResult? Tls,
    string? TlsProtocol,
    int? CertificateDaysToExpiry,
    DateTimeOffset? CertificateNotAfter,
    StepResult Http,
    int? HttpStatus)
{
    /// <summary>Every step worked and the HTTP answer was not a server error.</summary>
    public bool Reachable => Dns.Ok && Connect.Ok && (Tls?.Ok ?? true) && Http.Ok && HttpStatus is < 500;
}

internal sealed record StepResult(bool Ok, double Milliseconds, string? Error)
{
    public static StepResult Skipped { get; } = new(false, 0, "skipped");
}

/// <summary>One upstream host in use and the routes that use it.</summary>
internal sealed record UpstreamTarget(UpstreamBaseUrl Upstream, bool Https, IReadOnlyList<string> UsedBy, IReadOnlyList<string> Regions);

/// <summary>
/// Checks one upstream host step by step on its own connection (DNS, TCP connect, TLS handshake with the forwarding
/// client's certificate validation), then sends one harmless request (<c>GET</c> of the base path, no client data)
/// through the pooled forwarding client.
/// </summary>
internal sealed class UpstreamProbe(HttpMessageInvoker upstream, ReplayProxySettings settings, UpstreamCertificateValidation certificates, TimeProvider time)
{
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(5);

    public async Task<UpstreamProbeResult> ProbeAsync(UpstreamTarget target)
    {
        // Uri gives an IPv6 literal in brackets; DNS and the TLS target name want it bare.
        var host = target.Upstream.Host.Trim('[', ']');
        var port = target.Upstream.Port;

        var started = Stopwatch.GetTimestamp();
        IPAddress[] addresses = [];
        StepResult dns;
        try
        {
            using var timeout = new CancellationTokenSource(StepTimeout);
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await System.Net.Dns.GetHostAddressesAsync(host, timeout.Token);
            dns = addresses.Length > 0 ? Ok(started) : Failed(started, "no_addresses");
        }
        catch (SocketException ex)
        {
            dns = Failed(started, ex.SocketErrorCode.ToString());
        }
        catch (OperationCanceledException)
        {
            dns = Failed(started, "timeout");
        }

        var connect = StepResult.Skipped;
        StepResult? tls = target.Https ? StepResult.Skipped : null;
        string? protocol = null;
        DateTimeOffset? notAfter = null;
        if (dns.Ok)
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            started = Stopwatch.GetTimestamp();
            try
            {
                using var timeout = new CancellationTokenSource(StepTimeout);
                await socket.ConnectAsync(addresses, port, timeout.Token);
                connect = Ok(started);
            }
            catch (SocketException ex)
            {
                connect = Failed(started, ex.SocketErrorCode.ToString());
            }
            catch (OperationCanceledException)
            {
                connect = Failed(started, "timeout");
            }

            if (connect.Ok && target.Https)
            {
                (tls, protocol, notAfter) = await HandshakeAsync(socket, host);
            }
        }

        started = Stopwatch.GetTimestamp();
        StepResult http;
        int? status = null;
        try
        {
            using var timeout = new CancellationTokenSource(StepTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, target.Upstream.Target("/", null))
            {
                Version = HttpVersion.Version11,
                VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            };
            foreach (var (name, value) in settings.ExtraUpstreamHeaders)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            using var response = await upstream.SendAsync(request, timeout.Token);
            status = (int)response.StatusCode;
            http = Ok(started);
        }
        catch (HttpRequestException ex)
        {
            http = Failed(started, ex.HttpRequestError.ToString());
        }
        catch (OperationCanceledException)
        {
            http = Failed(started, "timeout");
        }

        int? days = notAfter is { } expiry ? (int)Math.Floor((expiry - time.GetUtcNow()).TotalDays) : null;
        return new UpstreamProbeResult(target, dns, addresses.Length, connect, tls, protocol, days, notAfter, http, status);
    }

    private async Task<(StepResult Tls, string? Protocol, DateTimeOffset? NotAfter)> HandshakeAsync(Socket socket, string host)
    {
        DateTimeOffset? notAfter = null;
        var started = Stopwatch.GetTimestamp();
        await using var stream = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
            {
                if (certificate is X509Certificate2 presented)
                {
                    notAfter = new DateTimeOffset(presented.NotAfter.ToUniversalTime(), TimeSpan.Zero);
                }

                return certificates.IsTrusted(sender, certificate, chain, errors);
            },
        };
        try
        {
            using var timeout = new CancellationTokenSource(StepTimeout);
            await stream.AuthenticateAsClientAsync(options, timeout.Token);
            return (Ok(started), stream.SslProtocol.ToString(), notAfter);
        }
        catch (AuthenticationException)
        {
            return (Failed(started, notAfter is null ? "handshake_failed" : "certificate_not_trusted"), null, notAfter);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            return (Failed(started, ex is OperationCanceledException ? "timeout" : "handshake_failed"), null, notAfter);
        }
    }

    private static StepResult Ok(long started) => new(true, Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1), null);

    private static StepResult Failed(long started, string error) => new(false, Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1), error);
}
