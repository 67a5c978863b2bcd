using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ReplayProxy.Tests.Diagnostics;

/// <summary>An HTTPS upstream on loopback (<c>https://localhost:port</c>) with a fresh self-signed certificate.</summary>
public sealed class FakeHttpsUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private FakeHttpsUpstream(WebApplication app, X509Certificate2 certificate)
    {
        _app = app;
        Certificate = certificate;
    }

    public X509Certificate2 Certificate { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public int Requests => Volatile.Read(ref _requests);

    public static async Task<FakeHttpsUpstream> StartAsync(TimeSpan validFor)
    {
        var certificate = CreateCertificate(validFor);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        var fake = new FakeHttpsUpstream(app, certificate);
        app.Run(async context =>
        {
            Interlocked.Increment(ref fake._requests);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"configs":{}}""");
        });
        var address = await Loopback.StartAsync(app);
        fake.BaseAddress = new Uri($"https://localhost:{address.Port}");
        return fake;
    }

    private static X509Certificate2 CreateCertificate(TimeSpan validFor)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.Add(validFor));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificate.Dispose();
    }
}
