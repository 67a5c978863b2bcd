using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ReplayProxy.Functions.Tests;

/// <summary>One request as the fake upstream received it.</summary>
public sealed record ReceivedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>
/// A recording upstream on a real Kestrel at 127.0.0.1:0: stands in for Amplitude (200 with JSON) or for the Azure
/// Monitor ingestion endpoint (200 with the ingestion service's accepted-count answer).
/// </summary>
public sealed class FakeAmplitude : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeAmplitude(WebApplication app)
    {
        _app = app;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    public static async Task<FakeAmplitude> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        var fake = new FakeAmplitude(app);
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            fake.Requests.Enqueue(new ReceivedRequest(
                context.Request.Method,
                context.Request.Path.Value ?? string.Empty,
                context.Request.QueryString.Value ?? string.Empty,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body.ToArray()));
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(context.Request.Path.StartsWithSegments("/v2.1/track")
                ? """{"itemsReceived":1,"itemsAccepted":1,"errors":[]}"""
                : """{"code":200,"configs":{}}""");
        });
        await app.StartAsync();
        fake.BaseAddress = TelemetryTests.Address(app);
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
