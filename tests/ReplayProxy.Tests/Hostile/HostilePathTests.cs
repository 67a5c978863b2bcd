using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;

namespace ReplayProxy.Tests.Hostile;

/// <summary>
/// Request targets built to steer the proxy elsewhere: encoded slashes and dots, <c>..</c>, <c>//host</c>,
/// absolute-form targets, <c>@</c>, backslashes, very long and non-ASCII paths. Sent as raw bytes. The proxy must only
/// ever contact its configured upstream, and answer 4xx (2xx when the target legitimately routes), never 5xx.
/// </summary>
public sealed class HostilePathTests(HostileFixture fixture, ITestOutputHelper output) : IClassFixture<HostileFixture>
{
    private const string EvilName = "evil.example";

    private async Task<RawResult> SendAsync(string method, string target, string? host = null, string version = "HTTP/1.1")
    {
        var request = $"{method} {target} {version}\r\nHost: {host ?? fixture.ProxyAuthority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        return await RawHttp.SendAsync(fixture.Proxy.BaseAddress, Encoding.UTF8.GetBytes(request));
    }

    private static void AssertNeverServerError(RawResult result, string what)
    {
        Assert.True(result.ClosedByServer, $"{what}: the proxy held the connection open: {result}");
        var status = Assert.Single(result.Statuses);
        Assert.True(status is >= 200 and < 500, $"{what}: answered {status}: {result}");
    }

    public static TheoryData<string, string> Targets()
    {
        const string E = "{evil}";
        var data = new TheoryData<string, string>();
        foreach (var target in new[]
        {
            "/config/%2F%2F" + EvilName + "/x",
            "/config/%2f%2f" + E + "/x",
            "/config/..%2F..%2Fadmin",
            "/config/%2e%2e/%2e%2e/" + EvilName,
            "/config/%2E%2E%2F%2E%2E%2F" + E,
            "/config/../../" + EvilName,
            "/config/../../../../etc/passwd",
            "/config/./././x",
            "//" + EvilName + "/config/x",
            "//" + E + "/config/x",
            "///" + EvilName + "/config/x",
            "/\\" + EvilName + "/config/x",
            "/config/\\..\\..\\" + EvilName,
            "/config\\..\\sessions\\v2\\track",
            "/config@" + EvilName + "/x",
            "/config/x@" + E + "/y",
            "/config/%40" + E,
            "@" + E + "/config/x",
            E + "/config/x",
            "/config/x?next=http://" + E + "/",
            "/config/x?@" + E,
            "/config/x#@" + E,
            "/config/%252F%252F" + EvilName,
            "/config/%C0%AE%C0%AE/" + EvilName,
            "/config/%00" + EvilName,
            "/config/%ZZ",
            "/config/%",
            "/config;" + EvilName + "/x",
            "/config/" + EvilName + ":80/x",
            "/config/x%0D%0AHost:%20" + E,
            "/config/%C3%A9t%C3%A9-%F0%9F%98%80",
            "/config/été-😀",
            "/ｃｏｎｆｉｇ/x",
            "/config/" + new string('a', 6000),
            "/config/" + new string('a', 20_000),
            "/" + new string('/', 3000) + EvilName,
            "/%63onfig/x",
            "/CONFIG/x",
            "/sessions/v2/track/..%2F..%2Fconfig",
            "/sessions/v2/../../config/x",
            "*",
            EvilName + ":443",
        })
        {
            data.Add("GET", target);
        }

        data.Add("POST", "/sessions/v2/track/../../..//" + E);
        data.Add("POST", "//" + E + "/sessions/v2/track");
        data.Add("POST", "/2/httpapi/..%2F..%2F" + EvilName);
        data.Add("POST", "/batch?x=//" + E);
        data.Add("OPTIONS", "*");
        data.Add("CONNECT", E);
        data.Add("CONNECT", EvilName + ":443");
        return data;
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task Hostile_origin_form_targets_only_ever_reach_the_configured_upstream(string method, string target)
    {
        target = target.Replace("{evil}", fixture.EvilAuthority, StringComparison.Ordinal);

        var result = await SendAsync(method, target);

        output.WriteLine($"{method} {(target.Length > 80 ? target[..80] + "…" : target)} → {result.FirstStatus}");
        AssertNeverServerError(result, target);
        fixture.AssertOnlyConfiguredUpstreamsWereContacted();
    }

    [Theory]
    [InlineData("http://{evil}/config/x", "{evil}")]
    [InlineData("http://evil.example/config/x", "evil.example")]
    [InlineData("https://{evil}/config/x", "{evil}")]
    [InlineData("http://{evil}/sessions/v2/track", "{evil}")]
    [InlineData("http://{evil}/config/x", "{proxy}")]
    [InlineData("http://{proxy}@{evil}/config/x", "{evil}")]
    [InlineData("http://{evil}@{proxy}/config/x", "{proxy}")]
    [InlineData("http://{evil}", "{evil}")]
    [InlineData("http://{evil}//{evil}/config/x", "{evil}")]
    [InlineData("ftp://{evil}/config/x", "{evil}")]
    [InlineData("http:/{evil}/config/x", "{evil}")]
    public async Task Absolute_form_targets_never_choose_the_upstream(string target, string host)
    {
        string Fill(string s) => s.Replace("{evil}", fixture.EvilAuthority, StringComparison.Ordinal).Replace("{proxy}", fixture.ProxyAuthority, StringComparison.Ordinal);
        var before = fixture.Good.Received.Count;

        var result = await SendAsync(target.Contains("track", StringComparison.Ordinal) ? "POST" : "GET", Fill(target), Fill(host));

        output.WriteLine($"{Fill(target)} Host: {Fill(host)} → {result.FirstStatus}");
        AssertNeverServerError(result, target);
        fixture.AssertOnlyConfiguredUpstreamsWereContacted();
        if (result.FirstStatus is >= 200 and < 300)
        {
            // Routed by its path, to the configured host; the authority in the target played no part.
            Assert.Equal(before + 1, fixture.Good.Received.Count);
        }
    }

    /// <summary>Property-based: targets assembled from the fragments attackers use, under every route prefix.</summary>
    [Fact]
    public async Task Generated_hostile_targets_never_reach_another_host_and_never_get_a_5xx()
    {
        var evil = fixture.EvilAuthority;
        var prefixes = Gen.Elements(
            "/config/", "/config", "/", "//", "/sessions/v2/track", "/sessions/v2/track/", "/2/httpapi", "/batch", "/healthz",
            "http://" + evil + "/", "http://" + EvilName + "/config/", "/%2F", "\\", "@");
        var fragments = Gen.Elements(
            "/", "//", "..", ".", "%2F", "%2f", "%2E", "%2e%2e", "%5C", "\\", "@", "%40", ":", "?", "#", "&", ";", "%00", "%", "%%",
            "%C0%AF", "%E2%80%AE", "é", "😀", "\u202e", "config", "sessions", "v2", "track", "httpapi", "batch",
            EvilName, evil, "http://", "https:", "127.0.0.1", "[::1]", "localhost", "%0D%0A", "%20", "+", "~", "$", "'", "\"", "<", ">",
            new string('a', 300), new string('/', 50));
        var targets = Gen.Zip(prefixes, Gen.ListOf(fragments).Select(f => string.Concat(f)), (p, f) => p + f);
        var methods = Gen.Elements("GET", "POST", "HEAD", "OPTIONS");
        var cases = Gen.Zip(methods, targets);
        var tried = 0;
        var statuses = new Dictionary<int, int>();

        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (method, target) = c;
            var result = SendAsync(method, target).GetAwaiter().GetResult();
            tried++;
            var status = result.FirstStatus ?? 0;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            return result.ClosedByServer
                && result.Statuses.Count == 1
                && status is >= 200 and < 500
                && fixture.Evil.TotalConnections == 0;
        });

        // Off the xunit synchronization context: the property blocks on each socket round trip.
        await Task.Run(() => Check.One(Config.QuickThrowOnFailure.WithMaxTest(300).WithEndSize(12), property));

        output.WriteLine($"{tried} generated targets; statuses: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}");
        fixture.AssertOnlyConfiguredUpstreamsWereContacted();
    }
}
