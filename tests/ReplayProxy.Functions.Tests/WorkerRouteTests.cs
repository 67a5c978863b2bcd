using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace ReplayProxy.Functions.Tests;

/// <summary>The proxy's routes through the test host and the real worker, against a recording fake Amplitude.</summary>
[Collection(WorkerPathCollection.Name)]
public sealed class WorkerRouteTests(WorkerHostFixture fixture) : IClassFixture<WorkerHostFixture>
{
    [Theory]
    [InlineData("POST", "/sessions/v2/track?device_id=d1&session_id=123&seq_number=1")]
    [InlineData("GET", "/config?config_group=browser")]
    [InlineData("GET", "/config/k3yAbc?config_group=browser")]
    [InlineData("HEAD", "/config/k3yAbc?config_keys=sessionReplay.sr_ios_privacy_config")]
    [InlineData("POST", "/2/httpapi")]
    [InlineData("POST", "/batch")]
    [InlineData("POST", "/")]
    public async Task Every_proxied_route_reaches_the_upstream_with_its_path_and_query(string method, string pathAndQuery)
    {
        using var client = ProxyClient.Create(fixture.Host.BaseAddress);
        var marker = Guid.NewGuid().ToString();
        using var request = new HttpRequestMessage(new HttpMethod(method), pathAndQuery);
        request.Headers.Add("X-Test-Id", marker);
        request.Headers.Add("Origin", WorkerPath.AllowedOrigin);
        request.Headers.Add("Cookie", "site=secret-cookie");
        if (method == "POST")
        {
            request.Content = new ByteArrayContent("""{"api_key":"k3yAbc","events":[{"event_type":"x"}]}"""u8.ToArray());
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(WorkerPath.AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var received = WorkerPath.Received(fixture.Upstream, marker);
        var uri = new Uri(fixture.Host.BaseAddress, pathAndQuery);
        Assert.Equal(method, received.Method);
        Assert.Equal(uri.AbsolutePath, received.Path);
        Assert.Equal(uri.Query, received.Query);
        Assert.Null(received.Header("Cookie"));
        Assert.Equal(fixture.Upstream.BaseAddress.Authority, received.Header("Host"));
        // The worker's pairing header and the test host's X-Forwarded-* are the host's business, never Amplitude's.
        Assert.Null(received.Header("x-ms-invocation-id"));
        Assert.Null(received.Header("X-Forwarded-Host"));
        Assert.Null(received.Header("X-Forwarded-Proto"));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    public async Task Health_answers_through_the_worker_without_calling_the_upstream(string method)
    {
        using var client = ProxyClient.Create(fixture.Host.BaseAddress);
        var before = fixture.Upstream.Received.Count;
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/healthz"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (method == "GET")
        {
            Assert.Equal("""{"status":"healthy"}""", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(before, fixture.Upstream.Received.Count);
    }

    /// <summary>
    /// One catch-all trigger hands every path and method to the core's route table, so the worker answers as the
    /// standalone host does: 404 problem details outside the table, 405 with <c>Allow</c> for another method.
    /// </summary>
    [Theory]
    [InlineData("DELETE", "/sessions/v2/track", "POST, OPTIONS")]
    [InlineData("GET", "/sessions/v2/track", "POST, OPTIONS")]
    [InlineData("PUT", "/config/k3yAbc", "GET, HEAD, OPTIONS")]
    [InlineData("POST", "/healthz", "GET, HEAD")]
    [InlineData("GET", "/", "POST, OPTIONS")]
    [InlineData("GET", "/configx", null)]
    [InlineData("GET", "/api/healthz", null)]
    public async Task The_core_answers_404_and_405_through_the_worker_and_nothing_is_forwarded(string method, string path, string? allow)
    {
        using var client = ProxyClient.Create(fixture.Host.BaseAddress);
        var before = fixture.Upstream.Received.Count;
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(allow is null ? HttpStatusCode.NotFound : HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(allow, allow is null ? null : string.Join(", ", response.Content.Headers.Allow));
        Assert.Equal(before, fixture.Upstream.Received.Count);
    }

    [Fact]
    public async Task Preflight_is_answered_by_the_proxy_in_the_worker()
    {
        using var client = ProxyClient.Create(fixture.Host.BaseAddress);
        var before = fixture.Upstream.Received.Count;
        using var request = new HttpRequestMessage(HttpMethod.Options, "/sessions/v2/track");
        request.Headers.Add("Origin", WorkerPath.AllowedOrigin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization, content-type, content-encoding");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(WorkerPath.AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        Assert.Equal(before, fixture.Upstream.Received.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_gzip_replay_upload_arrives_byte_identical_with_its_encoding_and_length(bool contentLength)
    {
        var payload = Gzip(3 * 1024 * 1024);
        using var client = ProxyClient.Create(fixture.Host.BaseAddress);
        var marker = Guid.NewGuid().ToString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/sessions/v2/track?device_id=d1&session_id=1");
        request.Headers.Add("X-Test-Id", marker);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "k3yAbc");
        // Without a length the body is chunked: the host streams it to the worker instead of reading it first.
        request.Content = contentLength ? new ByteArrayContent(payload) : new StreamContent(new UnknownLengthStream(payload));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Content.Headers.ContentEncoding.Add("gzip");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = WorkerPath.Received(fixture.Upstream, marker);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(payload)), received.BodySha256);
        Assert.Equal(payload.Length, received.BodyLength);
        Assert.Equal("gzip", received.Header("Content-Encoding"));
        Assert.Equal("Bearer k3yAbc", received.Header("Authorization"));
        if (contentLength)
        {
            Assert.Equal(payload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Header("Content-Length"));
        }
    }

    private static byte[] Gzip(int size)
    {
        var raw = new byte[size];
        new Random(7).NextBytes(raw);
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(raw);
        }

        return output.ToArray();
    }

    /// <summary>A body stream that does not tell its length, so HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
