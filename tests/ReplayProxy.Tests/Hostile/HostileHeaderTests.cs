using System.Net;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace ReplayProxy.Tests.Hostile;

/// <summary>
/// Headers built to break framing or identity: CR/LF and NUL injection, huge and many headers, forged client-IP and
/// Front Door headers, Host games, and request smuggling with duplicate <c>Content-Length</c> or
/// <c>Transfer-Encoding</c> next to <c>Content-Length</c>. All sent as raw bytes.
/// </summary>
public sealed class HostileHeaderTests(HostileFixture fixture, ITestOutputHelper output) : IClassFixture<HostileFixture>
{
    private const string Track = "/sessions/v2/track?device_id=d&session_id=";

    private string Head(string method, string target, params string[] headers) =>
        $"{method} {target} HTTP/1.1\r\nHost: {fixture.ProxyAuthority}\r\n{string.Concat(headers.Select(h => h + "\r\n"))}";

    private IReadOnlyList<ReceivedRequest> ReceivedWith(string marker) =>
        fixture.Good.Received.Where(r => r.Query.Contains(marker, StringComparison.Ordinal) || r.Path.Contains(marker, StringComparison.Ordinal)).ToList();

    public static TheoryData<string, string> MalformedHeaders() => new()
    {
        { "bare CR in a value", "X-Client-Url: https://a.example/\rInjected: 1" },
        { "NUL in a value", "X-Client-Url: https://a.example/\0Injected: 1" },
        { "obs-fold continuation", "X-Client-Url: https://a.example/\r\n Injected: 1" },
        { "space in a name", "X Client Url: x" },
        { "space before the colon", "X-Client-Url : x" },
        { "no colon", "X-Client-Url x" },
        { "empty name", ": x" },
    };

    /// <summary>Kestrel is lenient with these (it accepts them), so the request is delivered; what matters is that
    /// nothing is injected upstream.</summary>
    [Theory]
    [InlineData("X-Cl\u0001ient: x")]
    [InlineData("X-Client-Url: a\u007fInjected: 1")]
    [InlineData("X-Client-Url: a\tInjected: 1")]
    public async Task Odd_but_accepted_header_bytes_are_forwarded_or_dropped_never_injected(string header)
    {
        var marker = "o" + Guid.NewGuid().ToString("N");
        var result = await RawHttp.SendAsync(fixture.Proxy.BaseAddress, Head("POST", Track + marker, header, "Content-Length: 2", "Connection: close") + "\r\n{}");

        output.WriteLine($"{header.ReplaceLineEndings("\\n")} → {result.FirstStatus}");
        Assert.Equal(200, result.FirstStatus);
        var received = Assert.Single(ReceivedWith(marker));
        Assert.DoesNotContain(received.Headers, h => h.Key.Any(char.IsControl) || h.Value.Any(c => c is '\r' or '\n' or '\0'));
        Assert.Null(received.Header("Injected"));

        fixture.AssertOnlyConfiguredUpstreamsWereContacted();
    }

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public async Task Malformed_or_injected_headers_are_400_and_nothing_is_forwarded(string name, string header)
    {
        var marker = "m" + Guid.NewGuid().ToString("N");
        var result = await RawHttp.SendAsync(fixture.Proxy.BaseAddress, Head("POST", Track + marker, header, "Content-Length: 2", "Connection: close") + "\r\n{}");

        output.WriteLine($"{name} → {result.FirstStatus}");
        Assert.Equal(400, result.FirstStatus);
        Assert.Empty(ReceivedWith(marker));
        Assert.DoesNotContain(fixture.Good.Received, r => r.Header("Injected") is not null);
        fixture.AssertOnlyConfiguredUpstreamsWereContacted();
    }

    [Theory]
    [InlineData("X-Client-Url: https://www.example.com/été/😀")]
    [InlineData("X-Client-Url: https://www.example.com/\u00e9")]
    [InlineData("User-Agent: Mozilla/5.0 \u00ff\u00fe")]
    public async Task Non_ascii_header_values_are_forwarded_unchanged(string header)
    {
        var marker = "n" + Guid.NewGuid().ToString("N");
        var result = await RawHttp.SendAsync(fixture.Proxy.BaseAddress, Head("POST", Track + marker, header, "Content-Length: 2", "Connection: close") + "\r\n{}");

        output.WriteLine($"{header} → {result}");
        Assert.Equal(200, result.FirstStatus);
        var received = Assert.Single(ReceivedWith(marker));
        // Forwarded unchanged: the fake decodes the bytes it got the same way the proxy decoded the client's.
        var (name, value) = (header[..header.IndexOf(':', StringComparison.Ordinal)], header[(header.IndexOf(':', StringComparison.Ordinal) + 2)..]);
        Assert.Equal(value, received.Header(name));
        fixture.AssertOnlyConfiguredUpstreamsWereContacted();
    }

    [Fact]
    public async Task Encoded_crlf_in_the_query_and_path_stays_encoded_and_never_becomes_a_header()
    {
        var marker = "c" + Guid.NewGuid().ToString("N");
        var query = $"?device_id={marker}&x=%0D%0AInjected:%201%0D%0A%0D%0AGET%20/evil";
        var viaQuery = await RawHttp.SendAsync(fixture.Proxy.BaseAddress, Head("POST", "/sessions/v2/track" + query, "Content-Length: 0", "Connection: close") + "\r\n");
        var viaPath = await RawHttp.SendAsync(fixture.Proxy.BaseAddress, Head("GET", $"/config/{marker}%0D%0AInjected:%201%0D%0AHost:%20{fixture.EvilAuthority}", "Connection: close") + "\r\n");

        Assert.Equal(200, viaQuery.FirstStatus);
        Assert.Equal(200, viaPath.FirstStatus);
        var received = ReceivedWith(marker);
        Assert.Equal(2, received.Count);
        Assert.Contains(received, r => r.Query == query);
        Assert.Contains(received, r => r.Path.StartsWith($"/config/{marker}", StringComparison.Ordinal) && r.Path.Contains('\n', StringComparison.Ordinal));
        Assert.All(received, r => Assert.Null(r.Header("Injected")));
        fixture.AssertOnlyConfiguredUpstreamsWereContacted();
    }

    [Theory]
    [InlineData("one 40 KB header", 431)]
    [InlineData("150 headers", 431)]
    [InlineData("40 KB cookie", 431)]
    [InlineData("10 KB request line", 414)]
    public async Task Huge_or_many_headers_hit_kestrel_limits_and_nothing_is_forwarded(string name, int expected)
    {
        var marker = "h" + Guid.NewGuid().ToString("N");
        var target = Track + marker;
        var headers = new List<string> { "Content-Length: 0", "Connection: close" };
        switch (name)
        {
            case "one 40 KB header":
                headers.Add("X-Client-Url: " + new string('a', 40 * 1024));
                break;
            case "150 headers":
                headers.AddRange(Enumerable.Range(0, 150).Select(i => $"X-Filler-{i}: {i}"));
                break;
            case "40 KB cookie":
                headers.Add("Cookie: " + string.Join("; ", Enumerable.Range(0, 4000).Select(i => $"c{i}=123456")));
                break;
            default:
                target += "&pad=" + new string('p', 10 * 1024);
                break;
        }

        var result = await RawHttp.SendAsync(fixture.Proxy.BaseAddress, Head("POST", target, [.. headers]) + "\r\n");

        output.WriteLine($"{name} → {result.FirstStatus}");
        Assert.Equal(expected, result.FirstStatus);
        Assert.Empty(ReceivedWith(marker));
        fixture.AssertOnlyConfiguredUpstreamsWereContacted();
    }

    public static TheoryData<string, string, int[]> HostGames() => new()
    {
        { "evil host name", "Host: evil.example", [200] },
        { "evil authority", "Host: {evil}", [200] },
        { "two Host headers", "Host: {evil}", [400] },
        { "userinfo in Host", "Host: {proxy}@{evil}", [400] },
        { "path in Host", "Host: {evil}/config", [400] },
        { "scheme in Host", "Host: http://{evil}", [400] },
        { "empty Host", "Host:", [200] },
        { "no Host at all", "", [400] },
        { "HTTP/1.0 without Host", "", [200] },
        { "X-Forwarded-Host", "Host: {proxy}\r\nX-Forwarded-Host: {evil}", [200] },
        { "X-Original-Host and X-Host", "Host: {proxy}\r\nX-Original-Host: {evil}\r\nX-Host: {evil}", [200] },
        { "Forwarded host", "Host: {proxy}\r\nForwarded: host={evil};proto=http", [200] },
    };

    [Theory]
    [MemberData(nameof(HostGames))]
    public async Task Host_games_never_pick_the_upstream(string name, string hostLines, int[] allowed)
    {
        var marker = "g" + Guid.NewGuid().ToString("N");
        hostLines = hostLines.Replace("{evil}", fixture.EvilAuthority, StringComparison.Ordinal).Replace("{proxy}", fixture.ProxyAuthority, StringComparison.Ordinal);
        var version = name.StartsWith("HTTP/1.0", StringComparison.Ordinal) ? "HTTP/1.0" : "HTTP/1.1";
        var lines = name == "two Host headers" ? $"Host: {fixture.ProxyAuthority}\r\n{hostLines}\r\n" : hostLines.Length > 0 ? hostLines + "\r\n" : string.Empty;
        var request = $"GET /config/{marker} {version}\r\n{lines}Connection: close\r\n\r\n";

        var result = await RawHttp.SendAsync(fixture.Proxy.BaseAddress, request);

        output.WriteLine($"{name} → {result.FirstStatus}");
        Assert.Contains(result.FirstStatus ?? 0, allowed);
        var received = ReceivedWith(marker);
        Assert.Equal(result.FirstStatus == 200 ? 1 : 0, received.Count);
        Assert.All(received, r => Assert.Equal(fixture.GoodAuthority, r.Host));
        // Headers that could name a host to someone downstream are dropped; unknown X-* headers (X-Host) pass as opaque data.
        Assert.All(received, r => Assert.DoesNotContain(r.Headers, h =>
            h.Value.Contains(fixture.EvilAuthority, StringComparison.Ordinal)
            && (h.Key.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase) || h.Key.StartsWith("X-Original-", StringComparison.OrdinalIgnoreCase)
                || h.Key.Equals("Forwarded", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase))));
        fixture.AssertOnlyConfiguredUpstreamsWereContacted();
    }

    /// <summary>
    /// Each case hides a second request (<c>GET /config/smuggled-…</c>) in what one parser would call the body. The
    /// proxy may refuse (400), or forward the outer request, but the hidden one must never reach upstream as a request
    /// of its own, and the outer request must never reach it with a body other than what Kestrel framed.
    /// </summary>
    public static TheoryData<string, string> SmugglingCases() => new()
    {
        { "CL.TE", "Content-Length: {len}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}" },
        { "TE.CL", "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n{smuggledChunk}\r\n0\r\n\r\n" },
        { "TE.TE obfuscated (xchunked)", "Transfer-Encoding: xchunked\r\nContent-Length: {len}\r\n\r\n0\r\n\r\n{smuggled}" },
        { "TE chunked, identity", "Transfer-Encoding: chunked, identity\r\nContent-Length: {len}\r\n\r\n0\r\n\r\n{smuggled}" },
        { "TE twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n{smuggled}" },
        { "TE with tab", "Transfer-Encoding:\tchunked\r\nContent-Length: {len}\r\n\r\n0\r\n\r\n{smuggled}" },
        { "TE upper case", "Transfer-Encoding: CHUNKED\r\nContent-Length: {len}\r\n\r\n0\r\n\r\n{smuggled}" },
        { "two different Content-Length", "Content-Length: 5\r\nContent-Length: {len}\r\n\r\nhello{smuggled}" },
        { "two equal Content-Length", "Content-Length: {len}\r\nContent-Length: {len}\r\n\r\n0\r\n\r\n{smuggled}" },
        { "Content-Length list", "Content-Length: 5, {len}\r\n\r\nhello{smuggled}" },
        { "negative Content-Length", "Content-Length: -1\r\n\r\n{smuggled}" },
        { "Content-Length hex", "Content-Length: 0x10\r\n\r\n{smuggled}" },
        { "chunk size overflow", "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\n{smuggled}\r\n0\r\n\r\n" },
        { "chunk extension with LF", "Transfer-Encoding: chunked\r\n\r\n5;x\nhello\r\n0\r\n\r\n{smuggled}" },
        { "bare LF chunk terminator", "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n{smuggled}" },
        { "HTTP/1.0 with TE", "Transfer-Encoding: chunked\r\nContent-Length: {len}\r\n\r\n0\r\n\r\n{smuggled}" },
    };

    [Theory]
    [MemberData(nameof(SmugglingCases))]
    public Task Smuggled_requests_never_reach_upstream_as_their_own_request(string name, string rest) => SmuggleAsync(name, rest);

    /// <summary>
    /// RFC 9112 §6.3: an invalid Content-Length is an unrecoverable framing error (400, then close). Kestrel instead reads
    /// <c>+5</c> (also <c>05</c>, <c>+05</c>) as 5 and normalizes the header before the proxy sees it, so the bytes after the
    /// fifth are parsed as the next request on the connection. Harmless on its own (the client could send that request
    /// directly), but a front end that rejects or reads <c>+5</c> differently would disagree with Kestrel about where the
    /// request ends. Front Door re-frames requests towards the origin; this stays a known limitation of Kestrel.
    /// </summary>
    [Fact(Skip = "Known limitation, not fixable in the proxy: Kestrel accepts 'Content-Length: +5' and hides the raw value; see SECURITY.md")]
    public Task Content_length_with_a_plus_sign_is_refused() => SmuggleAsync("Content-Length with plus", "Content-Length: +5\r\n\r\nhello{smuggled}");

    private async Task SmuggleAsync(string name, string rest)
    {
        var marker = "s" + Guid.NewGuid().ToString("N");
        var smuggled = $"GET /config/smuggled-{marker} HTTP/1.1\r\nHost: {fixture.EvilAuthority}\r\n\r\n";
        var smuggledChunk = $"{Encoding.ASCII.GetByteCount(smuggled):X}\r\n{smuggled}";
        var body = rest.Replace("{smuggledChunk}", smuggledChunk, StringComparison.Ordinal).Replace("{smuggled}", smuggled, StringComparison.Ordinal);
        var bodyStart = body.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        body = body.Replace("{len}", (Encoding.ASCII.GetByteCount(body) - bodyStart - 5 + 5).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var version = name.StartsWith("HTTP/1.0", StringComparison.Ordinal) ? "HTTP/1.0" : "HTTP/1.1";
        // Keep-alive on purpose: if the proxy's parser split the bytes differently, the hidden request would be read next.
        // Then a last request that closes the connection: requests on one connection are answered in order, so once its
        // answer is in, whatever the proxy made of the bytes before it has been forwarded, or never will be.
        var sentinel = $"GET /healthz HTTP/1.1\r\nHost: {fixture.ProxyAuthority}\r\nConnection: close\r\n\r\n";
        var request = $"POST /sessions/v2/track?device_id={marker} {version}\r\nHost: {fixture.ProxyAuthority}\r\n{body}{sentinel}";

        var result = await RawHttp.SendAsync(fixture.Proxy.BaseAddress, request);

        output.WriteLine($"{name} → [{string.Join(",", result.Statuses)}] closed={result.ClosedByServer}; upstream: {string.Join("; ", ReceivedWith(marker).Select(r => $"{r.Method} {r.Path} {r.BodyLength} B completed={r.BodyCompleted}"))}; {result}");
        Assert.Empty(ReceivedWith("smuggled-" + marker));
        Assert.All(result.Statuses, s => Assert.InRange(s, 200, 499));
        var outer = ReceivedWith(marker);
        Assert.True(outer.Count <= 1, $"{outer.Count} upstream requests");
        Assert.All(outer, r => Assert.Equal("/sessions/v2/track", r.Path));
        // A success is only ever reported for a body that was delivered (the health answer to the last request aside).
        var healthAnswers = result.Text.Split("{\"status\":\"healthy\"}").Length - 1;
        Assert.True(result.Statuses.Count(s => s < 300) - healthAnswers <= outer.Count(r => r.BodyCompleted), $"2xx without delivery: {result}");
        fixture.AssertOnlyConfiguredUpstreamsWereContacted();
    }

    /// <summary>Property-based: whatever a client claims in the identity headers, upstream gets one X-Forwarded-For,
    /// the socket peer's, and none of the claims.</summary>
    [Fact]
    public async Task Forged_identity_headers_never_reach_upstream_without_front_door()
    {
        var values = Gen.Elements(
            "6.6.6.6", "6.6.6.6, 7.7.7.7", "::1", "[2001:db8::1]:443", "127.0.0.1", "10.0.0.1:80", "unknown", "", " ", "evil.example",
            "1.2.3.4\u00a0", "for=6.6.6.6", Guid.NewGuid().ToString(), "999.999.999.999", "0x7f000001", "%36.6.6.6");
        var names = Gen.Elements(
            "X-Forwarded-For", "X-Azure-ClientIP", "X-Azure-FDID", "X-Azure-SocketIP", "X-Real-IP", "Forwarded", "X-Forwarded-Host",
            "X-Original-For", "X-ARR-ClientIP", "X-Client-IP", "True-Client-IP", "CF-Connecting-IP", "x-forwarded-for", "X-FORWARDED-FOR");
        // At most 60 headers: past Kestrel's MaxRequestHeaderCount (100) the answer is a 431, covered on its own above.
        var headerSets = Gen.Resize(Gen.NonEmptyListOf(Gen.Zip(names, values)), 60);
        var checkedCount = 0;

        var property = Prop.ForAll(headerSets.ToArbitrary(), headers =>
        {
            var marker = "f" + Guid.NewGuid().ToString("N");
            var lines = headers.Select(h => $"{h.Item1}: {h.Item2}").Append("Content-Length: 0").Append("Connection: close").ToArray();
            var result = RawHttp.SendAsync(fixture.Proxy.BaseAddress, Head("GET", $"/config/{marker}", lines) + "\r\n").GetAwaiter().GetResult();
            var received = ReceivedWith(marker);
            checkedCount++;
            if (result.FirstStatus != 200 || received.Count != 1)
            {
                output.WriteLine($"[{string.Join(" | ", lines)}] → {result}");
                return false;
            }

            var r = received[0];
            // Headers the proxy knows to be identity claims are dropped; others it does not interpret pass as opaque.
            var ok = r.HeaderValues("X-Forwarded-For").SequenceEqual(["127.0.0.1"])
                && r.Header("X-Azure-ClientIP") is null && r.Header("X-Azure-FDID") is null && r.Header("X-Azure-SocketIP") is null
                && r.Header("X-Real-IP") is null && r.Header("Forwarded") is null && r.Header("X-Forwarded-Host") is null
                && r.Header("X-Original-For") is null && r.Header("X-ARR-ClientIP") is null
                && r.Host == fixture.GoodAuthority;
            if (!ok)
            {
                output.WriteLine($"[{string.Join(" | ", lines)}] → upstream headers {string.Join(" | ", r.Headers.Select(h => h.Key + ": " + h.Value))}");
            }

            return ok;
        });

        await Task.Run(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(150), property));

        output.WriteLine($"{checkedCount} forged header sets");
        fixture.AssertOnlyConfiguredUpstreamsWereContacted();
    }

    /// <summary>Behind Front Door: a wrong or doubled <c>X-Azure-FDID</c> is 403 with nothing forwarded; with the right one,
    /// <c>X-Azure-ClientIP</c> is used only when it is exactly one IP, otherwise the socket peer.</summary>
    [Fact]
    public async Task Forged_front_door_headers_are_refused_or_ignored()
    {
        var frontDoorId = Guid.NewGuid().ToString();
        await using var upstream = await FakeAmplitude.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?> { ["FrontDoorId"] = frontDoorId });

        async Task<RawResult> Send(string marker, params string[] headers) =>
            await RawHttp.SendAsync(proxy.BaseAddress, $"GET /config/{marker} HTTP/1.1\r\nHost: {proxy.BaseAddress.Authority}\r\n{string.Concat(headers.Select(h => h + "\r\n"))}Connection: close\r\n\r\n");

        string[][] refused =
        [
            [],
            ["X-Azure-FDID: " + Guid.NewGuid()],
            ["X-Azure-FDID: " + frontDoorId, "X-Azure-FDID: " + Guid.NewGuid()],
            ["X-Azure-FDID: " + frontDoorId + ", " + Guid.NewGuid()],
            ["X-Azure-FDID: " + frontDoorId.ToUpperInvariant() + "x"],
            ["X-Azure-FDID: {" + frontDoorId + "}x"],
            ["x-azure-fdid: 00000000-0000-0000-0000-000000000000"],
            ["X-Forwarded-For: 1.2.3.4", "X-Azure-ClientIP: 1.2.3.4"],
        ];
        foreach (var headers in refused)
        {
            var result = await Send("refused", headers);
            Assert.Equal(403, result.FirstStatus);
        }

        Assert.Empty(upstream.Received);

        (string[] Headers, string ExpectedIp)[] trusted =
        [
            (["X-Azure-FDID: " + frontDoorId, "X-Azure-ClientIP: 203.0.113.7", "X-Forwarded-For: 6.6.6.6"], "203.0.113.7"),
            (["X-Azure-FDID: " + frontDoorId, "X-Azure-ClientIP: 203.0.113.7, 6.6.6.6"], "127.0.0.1"),
            (["X-Azure-FDID: " + frontDoorId, "X-Azure-ClientIP: 203.0.113.7", "X-Azure-ClientIP: 6.6.6.6"], "127.0.0.1"),
            (["X-Azure-FDID: " + frontDoorId, "X-Azure-ClientIP: evil.example"], "127.0.0.1"),
            (["X-Azure-FDID: " + frontDoorId, "X-Azure-ClientIP: [2001:db8::5]:443"], "2001:db8::5"),
            (["X-Azure-FDID: " + frontDoorId, "X-Forwarded-For: 6.6.6.6"], "127.0.0.1"),
        ];
        foreach (var (headers, expectedIp) in trusted)
        {
            var marker = "t" + Guid.NewGuid().ToString("N");
            var result = await Send(marker, headers);
            Assert.Equal(200, result.FirstStatus);
            var received = Assert.Single(upstream.Received, r => r.Path.EndsWith(marker, StringComparison.Ordinal));
            Assert.Equal(expectedIp, Assert.Single(received.HeaderValues("X-Forwarded-For")));
            Assert.Null(received.Header("X-Azure-FDID"));
            Assert.Null(received.Header("X-Azure-ClientIP"));
        }
    }
}
