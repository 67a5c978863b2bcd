using System.Net;
using System.Text.Json;

namespace ReplayProxy.Tests.Integration;

/// <summary>The 40 requests captured from the real browser SDKs (shared/fixtures/sdk-requests.json) go through the
/// proxy: each arrives unchanged apart from the header rules, and none of the platform front end's headers
/// (<see cref="AppServiceFrontEnd"/>) comes with it.</summary>
public abstract class SdkFixtureTests<TProxy>(ProxyFixture<TProxy> fixture) : IClassFixture<ProxyFixture<TProxy>>
    where TProxy : IProxyKind
{
    public sealed record Captured(string Name, string Method, string Path, string[][] Headers, string BodyBase64);

    private static readonly Lazy<IReadOnlyList<Captured>> All = new(() =>
    {
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Fixtures", "sdk-requests.json"));
        using var json = JsonDocument.Parse(stream);
        return json.RootElement.GetProperty("requests").EnumerateArray().Select(r => new Captured(
            r.GetProperty("name").GetString()!,
            r.GetProperty("method").GetString()!,
            r.GetProperty("path").GetString()!,
            r.GetProperty("headers").EnumerateArray().Select(h => h.EnumerateArray().Select(v => v.GetString()!).ToArray()).ToArray(),
            r.GetProperty("bodyBase64").GetString() ?? string.Empty)).ToList();
    });

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var request in All.Value)
        {
            data.Add(request.Name);
        }

        return data;
    }

    private static readonly HashSet<string> ContentHeaders = new(StringComparer.OrdinalIgnoreCase) { "Content-Type", "Content-Encoding", "Content-Length" };
    private static readonly HashSet<string> NeverForwarded = new(StringComparer.OrdinalIgnoreCase) { "Cookie", "Host", "Connection" };

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Captured_sdk_request_is_forwarded_unchanged_apart_from_the_header_rules(string name)
    {
        var captured = All.Value.Single(r => r.Name == name);
        var body = Convert.FromBase64String(captured.BodyBase64);
        using var request = new HttpRequestMessage(new HttpMethod(captured.Method), captured.Path);
        if (captured.Method == "POST")
        {
            request.Content = new ByteArrayContent(body);
        }

        foreach (var header in captured.Headers)
        {
            var (headerName, value) = (header[0], header[1]);
            if (headerName.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || headerName.Equals("Host", StringComparison.OrdinalIgnoreCase) || headerName.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (ContentHeaders.Contains(headerName))
            {
                request.Content!.Headers.TryAddWithoutValidation(headerName, value);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(headerName, value);
            }
        }

        if (!TProxy.HostAddsPlatformHeaders)
        {
            foreach (var (headerName, value) in PlatformHeaders(captured.Path))
            {
                request.Headers.TryAddWithoutValidation(headerName, value);
            }
        }

        fixture.Upstream.Clear();
        using var response = await fixture.Client.SendAsync(request);
        var origin = captured.Headers.FirstOrDefault(h => h[0] == "Origin")?[1];

        if (captured.Method == "OPTIONS")
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Equal(origin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
            Assert.Equal("true", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Credentials")));
            var requested = captured.Headers.Single(h => h[0] == "Access-Control-Request-Headers")[1].Split(',');
            var allowed = Assert.Single(response.Headers.GetValues("Access-Control-Allow-Headers")).Split(", ");
            Assert.Subset(allowed.ToHashSet(), requested.Select(h => h.Trim().ToLowerInvariant()).ToHashSet());
            Assert.Empty(fixture.Upstream.Received);
            return;
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(origin, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var acao) ? Assert.Single(acao) : null);
        var received = Assert.Single(fixture.Upstream.Received);
        Assert.Equal(captured.Method, received.Method);
        Assert.Equal(captured.Path, received.Path + received.Query);
        Assert.Equal(body, received.Body);
        foreach (var header in captured.Headers.Where(h => !NeverForwarded.Contains(h[0])))
        {
            var config = captured.Method == "GET" && captured.Path.StartsWith("/config", StringComparison.Ordinal);
            Assert.Contains(config && header[0].Equals("Accept-Encoding", StringComparison.OrdinalIgnoreCase) ? Decodable(header[1]) : header[1], received.HeaderValues(header[0]));
        }

        Assert.Null(received.Header("Cookie"));
        Assert.Equal("127.0.0.1", received.Header("X-Forwarded-For"));
        foreach (var (headerName, _) in PlatformHeaders(captured.Path))
        {
            Assert.True(received.Header(headerName) is null, $"the platform's {headerName} reached Amplitude");
        }
    }

    /// <summary>Config requests offer Amplitude only the codings the proxy can open to switch the SDK's diagnostics
    /// off (<see cref="SdkDiagnosticsTests{TProxy}"/>): Chromium's zstd goes.</summary>
    private static string Decodable(string acceptEncoding) =>
        string.Join(", ", acceptEncoding.Split(',', StringSplitOptions.TrimEntries).Where(c => c.Split(';')[0] is "gzip" or "deflate" or "br" or "identity"));

    /// <summary>The App Service front end's headers (the Functions test host adds them to every request itself).</summary>
    private static IReadOnlyList<KeyValuePair<string, string>> PlatformHeaders(string pathAndQuery) =>
        AppServiceFrontEnd.Headers(new IPEndPoint(IPAddress.Loopback, 50123), pathAndQuery);
}

public sealed class StandaloneSdkFixtureTests(ProxyFixture<StandaloneProxy> fixture) : SdkFixtureTests<StandaloneProxy>(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class FunctionsSdkFixtureTests(ProxyFixture<FunctionsProxy> fixture) : SdkFixtureTests<FunctionsProxy>(fixture);
