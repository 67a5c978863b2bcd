using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ReplayProxy.Tests.Integration;

namespace ReplayProxy.Tests.Telemetry;

/// <summary>
/// With every category at Trace (ASP.NET Core's, Kestrel's, YARP's, the proxy's), no log line of any outcome carries
/// the API key, the query, a cookie or an Authorization value.
/// </summary>
public sealed class SecretFreeLogTests
{
    private const string Key = "k3ysecret0123456789abcdef";
    private const string QueryMarker = "q4ery9marker";
    private const string CookieValue = "c00kie7session";

    [Fact]
    public async Task No_log_line_at_any_level_carries_a_key_query_cookie_or_authorization()
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        var closed = Loopback.ClosedAddress();
        var stalls = false;
        var clientSawHead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.Respond = async (context, request) =>
        {
            if (stalls)
            {
                await context.Response.WriteAsync("partial");
                await context.Response.Body.FlushAsync();
                // Cut once the client has the head; a reset that arrives with the head would be a plain 502.
                await clientSawHead.Task.WaitAsync(TimeSpan.FromSeconds(30));
                context.Abort();
                return;
            }

            await FakeAmplitude.DefaultRespond(context, request);
        };
        await using var proxy = await ProxyHost.StartAsync(upstream.BaseAddress, closed, upstream.BaseAddress, new Dictionary<string, string?>
        {
            ["MaxRequestBodyBytes"] = "1000",
            ["UpstreamTimeoutSeconds"] = "2",
        }, traceEverything: true);
        using var client = proxy.CreateClient();

        // Forwarded, with a key in the query, Authorization and a cookie.
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/v2/track?api_key={Key}&x={QueryMarker}") { Content = new ByteArrayContent([1, 2, 3]) })
        {
            request.Headers.Authorization = new("Bearer", Key);
            request.Headers.TryAddWithoutValidation("Cookie", "session=" + CookieValue);
            using var ok = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // The config upstream refuses connections: 502, with the key in the path.
        using (var unreachable = await client.GetAsync($"/config/{Key}?config_group=browser&x={QueryMarker}"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, unreachable.StatusCode);
        }

        // 413 by Content-Length, and 413 while streaming a chunked body.
        using (var tooLarge = await client.PostAsync($"/2/httpapi?api_key={Key}&x={QueryMarker}", new ByteArrayContent(new byte[1001])))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        }

        var chunked = await RawExchangeAsync(proxy, $"POST /sessions/v2/track?api_key={Key}&x={QueryMarker} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7D0\r\n{new string('a', 2000)}\r\n0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 413", chunked, StringComparison.Ordinal);

        // A malformed request Kestrel refuses itself, quoting nothing of the target.
        var malformed = await RawExchangeAsync(proxy, $"POST /sessions/v2/track?api_key={Key}&x={QueryMarker} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
        Assert.StartsWith("HTTP/1.1 400", malformed, StringComparison.Ordinal);

        // The upstream cuts the response short after the headers: the client connection is aborted.
        stalls = true;
        using (var cutRequest = new HttpRequestMessage(HttpMethod.Post, $"/sessions/v2/track?api_key={Key}&x={QueryMarker}") { Content = new ByteArrayContent([1]) })
        using (var cut = await client.SendAsync(cutRequest, HttpCompletionOption.ResponseHeadersRead))
        {
            clientSawHead.SetResult();
            await Assert.ThrowsAsync<HttpRequestException>(() => cut.Content.ReadAsByteArrayAsync());
        }

        stalls = false;

        // A client that goes away mid-upload, once the upload is streaming to the upstream.
        var uploadStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.BeforeBody = context =>
        {
            if (context.Request.ContentLength == 900)
            {
                uploadStarted.TrySetResult();
            }

            return Task.FromResult(false);
        };
        var handlerLinesBefore = HandlerLines(proxy);
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(proxy.BaseAddress.Host, proxy.BaseAddress.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /sessions/v2/track?api_key={Key}&x={QueryMarker} HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n"));
            await stream.WriteAsync(new byte[300]);
            await uploadStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
            tcp.Client.LingerState = new LingerOption(true, 0);
        }

        await Eventually.WaitUntil(() => upstream.AbortedRequests == 1, TimeSpan.FromSeconds(10));
        // The proxy's line about that request is the last thing it logs for it.
        await Eventually.WaitUntil(() => HandlerLines(proxy) > handlerLinesBefore, TimeSpan.FromSeconds(10));

        var entries = proxy.Logs.Entries;
        Assert.Contains(entries, e => e.Level == LogLevel.Trace || e.Level == LogLevel.Debug);
        Assert.Contains(entries, e => e.Level == LogLevel.Warning && e.Message.Contains("connection_failed", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Level == LogLevel.Warning && e.Message.Contains("response_aborted", StringComparison.Ordinal));
        Assert.All(entries, e =>
        {
            var text = e.Message + " " + e.State;
            Assert.DoesNotContain(Key, text, StringComparison.Ordinal);
            Assert.DoesNotContain(QueryMarker, text, StringComparison.Ordinal);
            Assert.DoesNotContain(CookieValue, text, StringComparison.Ordinal);
            Assert.DoesNotContain("api_key", text, StringComparison.OrdinalIgnoreCase);
        });
        Assert.DoesNotContain(entries, e => e.Category.StartsWith("Yarp", StringComparison.Ordinal));
    }

    private static int HandlerLines(ProxyHost proxy) =>
        proxy.Logs.Entries.Count(e => e.Category == typeof(ReplayProxyHandler).FullName);

    private static async Task<string> RawExchangeAsync(ProxyHost proxy, string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(proxy.BaseAddress.Host, proxy.BaseAddress.Port);
        var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        }
        catch (IOException)
        {
            // The proxy may answer and close before the whole request is written.
        }

        return await RawHttp.ReadHeadAsync(stream);
    }
}
