using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ReplayProxy.Testing;

namespace ReplayProxy.Infrastructure.Tests;

/// <summary>
/// The platform CORS the template deploys, run: <c>siteConfig.cors</c> from a <c>bicep snapshot</c>, turned into the
/// environment the platform gives the Functions host, on the Functions test host with the real worker; then what a
/// browser checks of the answers.
/// </summary>
[Collection(InfraCollection.Name)]
public sealed class PlatformCorsTests(InfraFixture infra)
{
    private const string Listed = "https://www.shop.example.com";

    /// <summary>What the replay plugin's upload asks for in its preflight.</summary>
    private const string UploadHeaders = "authorization,content-type,x-client-library,x-client-sample-rate,x-client-url,x-client-version,x-sampling-hash-alg";

    [Fact]
    public async Task A_page_on_a_listed_origin_passes_the_browsers_CORS_checks_through_the_Functions_host_and_another_does_not()
    {
        var snapshot = infra.Take("platform-cors", new Dictionary<string, object?> { ["allowedOrigins"] = $"https://shop.example.com, {Listed}" });
        var cors = snapshot.Single("Microsoft.Web/sites").GetProperty("properties").GetProperty("siteConfig").GetProperty("cors");
        var appSettings = Assert.Single(snapshot.OfType("Microsoft.Web/sites/config"), c => c.GetProperty("name").GetString()!.EndsWith("/appsettings", StringComparison.Ordinal))
            .GetProperty("properties");

        await using var upstream = await FakeAmplitude.StartAsync();
        var environment = FunctionsProxy.Environment(ProxyUpstreams.All(upstream.BaseAddress), null);
        environment["ReplayProxy__AllowedOrigins"] = appSettings.GetProperty("ReplayProxy__AllowedOrigins").GetString();
        foreach (var (name, value) in PlatformEnvironment(cors))
        {
            environment[name] = value;
        }

        await using var host = await FunctionsHostProcess.StartAsync(environment);
        using var client = ProxyClient.Create(host.BaseAddress);

        using (var preflight = await client.SendAsync(Preflight(Listed)))
        {
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.Null(PreflightRefusal(preflight, Listed, "POST", UploadHeaders));
        }

        using (var preflight = await client.SendAsync(Preflight("https://evil.example.com")))
        {
            Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.NotNull(PreflightRefusal(preflight, "https://evil.example.com", "POST", UploadHeaders));
        }

        // The credentialed upload that follows (the page-exit beacon is one): readable only with the exact origin and
        // Access-Control-Allow-Credentials: true.
        using var upload = new HttpRequestMessage(HttpMethod.Post, "/sessions/v2/track?device_id=d1&session_id=1&api_key=k3yAbc");
        upload.Headers.Add("Origin", Listed);
        upload.Content = new StringContent("""{"version":1,"events":["e"]}""", Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(upload);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([Listed], response.Headers.GetValues("Access-Control-Allow-Origin"));
        Assert.Equal(["true"], response.Headers.GetValues("Access-Control-Allow-Credentials"));
        Assert.Single(upstream.Received);
    }

    /// <summary>
    /// As the platform gives <c>siteConfig.cors</c> to the host (azure-functions-host <c>HostAssignmentContext</c>):
    /// <c>CORS_SUPPORT_CREDENTIALS</c> is the boolean's .NET text, <c>CORS_ALLOWED_ORIGINS</c> the origins as JSON.
    /// </summary>
    private static Dictionary<string, string> PlatformEnvironment(JsonElement cors)
    {
        var environment = new Dictionary<string, string>
        {
            ["CORS_SUPPORT_CREDENTIALS"] = cors.TryGetProperty("supportCredentials", out var credentials) && credentials.GetBoolean() ? bool.TrueString : bool.FalseString,
        };
        if (cors.TryGetProperty("allowedOrigins", out var origins))
        {
            environment["CORS_ALLOWED_ORIGINS"] = JsonSerializer.Serialize(origins.EnumerateArray().Select(o => o.GetString()).ToArray());
        }

        return environment;
    }

    /// <summary>Chromium's preflight before the replay upload.</summary>
    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/sessions/v2/track?device_id=d1&session_id=1");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", UploadHeaders);
        return request;
    }

    /// <summary>
    /// The Fetch standard's CORS-preflight check for a credentialed request: null when the browser would go on to send
    /// the request, else why it would not.
    /// </summary>
    private static string? PreflightRefusal(HttpResponseMessage response, string origin, string method, string requestHeaders)
    {
        if ((int)response.StatusCode is < 200 or > 299)
        {
            return $"status {(int)response.StatusCode}";
        }

        if (Values(response.Headers, "Access-Control-Allow-Origin") is not [var allowed] || allowed != origin)
        {
            return "Access-Control-Allow-Origin is not exactly the page's origin";
        }

        if (Values(response.Headers, "Access-Control-Allow-Credentials") is not ["true"])
        {
            return "Access-Control-Allow-Credentials is not true";
        }

        var methods = List(response.Headers, "Access-Control-Allow-Methods");
        if (method is not ("GET" or "HEAD" or "POST") && !methods.Contains(method, StringComparer.Ordinal))
        {
            return $"method {method} not allowed";
        }

        var headers = List(response.Headers, "Access-Control-Allow-Headers");
        var missing = requestHeaders.Split(',').Where(h => !headers.Contains(h, StringComparer.OrdinalIgnoreCase)).ToList();
        return missing.Count == 0 ? null : $"headers not allowed: {string.Join(", ", missing)}";
    }

    private static string[] Values(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.ToArray() : [];

    private static List<string> List(HttpResponseHeaders headers, string name) =>
        Values(headers, name).SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
}
