using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ReplayProxy.Tests.Standalone;

/// <summary>One OTLP export request: its target and headers as text, and its body (gunzipped if it came compressed).</summary>
internal sealed record OtlpExportRequest(string Path, string ContentType, string Head, byte[] Body)
{
    /// <summary>Every byte the receiver got for this request (target, headers, body), for leak checks.</summary>
    public byte[] AllBytes() => [.. Encoding.UTF8.GetBytes(Head), .. Body];
}

/// <summary>An OTLP/HTTP collector stand-in on 127.0.0.1: keeps every export request and answers 200.</summary>
internal sealed class FakeOtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<OtlpExportRequest> _received = new();

    private FakeOtlpReceiver(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyCollection<OtlpExportRequest> Received => _received.ToArray();

    public static async Task<FakeOtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new FakeOtlpReceiver(app);
        app.Run(receiver.HandleAsync);
        receiver.BaseAddress = await Loopback.StartAsync(app);
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var body = new MemoryStream();
        var source = request.Headers.ContentEncoding == "gzip" ? new GZipStream(request.Body, CompressionMode.Decompress) : request.Body;
        await using (source)
        {
            await source.CopyToAsync(body, context.RequestAborted);
        }

        var head = $"{request.Method} {request.Path}{request.QueryString}\n" + string.Join('\n', request.Headers.Select(h => $"{h.Key}: {h.Value}"));
        _received.Enqueue(new OtlpExportRequest(request.Path.Value ?? string.Empty, request.ContentType ?? string.Empty, head, body.ToArray()));
        context.Response.ContentType = "application/x-protobuf";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
