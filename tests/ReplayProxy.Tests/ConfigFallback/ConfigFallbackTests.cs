using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using ReplayProxy.Tests.Integration;

namespace ReplayProxy.Tests.ConfigFallback;

/// <summary>
/// Config inside the SDK's budget (issue 13 part 1): when Amplitude fails or is slower than the config deadline, the
/// last good answer for the same path and query is served, marked stale; otherwise config is always Amplitude's.
/// </summary>
public sealed class ConfigFallbackTests
{
    private const string Updated = """{"configs":{"sessionReplay":{"sr_sampling_config":{"sample_rate":0.5,"capture_enabled":true}}}}""";

    [Fact]
    public async Task An_answer_in_time_is_always_Amplitudes_never_one_from_memory()
    {
        await using var outage = await ConfigOutage.StartAsync();
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);

        outage.Body = Updated;
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), Updated);
        Assert.Equal(2, outage.Upstream.Received.Count);
    }

    [Fact]
    public async Task Past_the_deadline_the_remembered_answer_is_served_with_its_age_and_the_stale_marker()
    {
        await using var outage = await ConfigOutage.StartAsync();
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);

        outage.Clock.Advance(TimeSpan.FromSeconds(125));
        outage.Hang();
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync(), ConfigOutage.Config, TimeSpan.FromSeconds(125));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(429)]
    public async Task An_upstream_5xx_or_429_is_answered_from_memory(int status)
    {
        await using var outage = await ConfigOutage.StartAsync();
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);

        outage.AnswerStatus(status);
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync(), ConfigOutage.Config);
    }

    [Fact]
    public async Task A_refused_connection_is_answered_from_memory_and_a_path_never_seen_gets_502()
    {
        await using var outage = await ConfigOutage.StartAsync();
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);

        await outage.UpstreamGoneAsync();
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync(), ConfigOutage.Config);
        await ProblemAssert.IsProblemAsync(await outage.GetConfigAsync("otherkey"), HttpStatusCode.BadGateway);
    }

    [Fact]
    public async Task A_body_cut_short_is_answered_from_memory_and_without_memory_the_client_connection_is_cut()
    {
        await using var outage = await ConfigOutage.StartAsync();
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);

        outage.Upstream.Respond = static async (context, _) =>
        {
            context.Response.ContentLength = 1000;
            await context.Response.WriteAsync("""{"configs":""");
            await context.Response.Body.FlushAsync();
            await Task.Delay(100);
            context.Abort();
        };
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync(), ConfigOutage.Config);
        await Assert.ThrowsAnyAsync<HttpRequestException>(async () =>
        {
            using var response = await outage.GetConfigAsync("neverseen");
            await response.Content.ReadAsByteArrayAsync();
        });
    }

    [Fact]
    public async Task Memory_is_per_path_and_query()
    {
        await using var outage = await ConfigOutage.StartAsync();
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);

        outage.AnswerStatus(503);
        var otherQuery = await outage.GetConfigAsync(query: "?config_group=ios");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, otherQuery.StatusCode);
        Assert.False(ConfigOutage.IsStale(otherQuery));
    }

    [Fact]
    public async Task With_nothing_remembered_a_hang_is_the_usual_504_and_a_5xx_is_relayed()
    {
        await using var outage = await ConfigOutage.StartAsync(new Dictionary<string, string?> { ["UpstreamTimeoutSeconds"] = "1", ["ConfigDeadlineMilliseconds"] = "200" });
        outage.AnswerStatus(503, """{"error":"from amplitude"}""");
        var relayed = await outage.GetConfigAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, relayed.StatusCode);
        Assert.Equal("""{"error":"from amplitude"}""", await relayed.Content.ReadAsStringAsync());
        Assert.False(ConfigOutage.IsStale(relayed));

        outage.Hang();
        var problem = await ProblemAssert.IsProblemAsync(await outage.GetConfigAsync(), HttpStatusCode.GatewayTimeout);
        Assert.Equal("Amplitude did not answer in time.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_answer_older_than_the_stale_limit_is_not_served()
    {
        await using var outage = await ConfigOutage.StartAsync(new Dictionary<string, string?> { ["ConfigStaleLimitSeconds"] = "60" });
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);
        outage.AnswerStatus(503);

        outage.Clock.Advance(TimeSpan.FromSeconds(59));
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync(), ConfigOutage.Config, TimeSpan.FromSeconds(59));

        outage.Clock.Advance(TimeSpan.FromSeconds(2));
        var tooOld = await outage.GetConfigAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, tooOld.StatusCode);
        Assert.False(ConfigOutage.IsStale(tooOld));
    }

    [Fact]
    public async Task A_stale_limit_of_zero_turns_the_fallback_off()
    {
        await using var outage = await ConfigOutage.StartAsync(new Dictionary<string, string?> { ["ConfigStaleLimitSeconds"] = "0" });
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);

        outage.AnswerStatus(503);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await outage.GetConfigAsync()).StatusCode);
    }

    [Theory]
    [InlineData(404, ConfigOutage.Config)]
    [InlineData(203, ConfigOutage.Config)]
    [InlineData(200, """{"configs":"not an object"}""")]
    [InlineData(200, """{"other":{}}""")]
    [InlineData(200, """{"configs":{}""")]
    [InlineData(200, "configs")]
    public async Task Only_a_200_with_a_JSON_configs_object_is_remembered(int status, string body)
    {
        await using var outage = await ConfigOutage.StartAsync();
        outage.AnswerStatus(status, body);
        var first = await outage.GetConfigAsync();
        Assert.Equal(status, (int)first.StatusCode);
        Assert.Equal(body, await first.Content.ReadAsStringAsync());

        outage.AnswerStatus(503);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await outage.GetConfigAsync()).StatusCode);
    }

    [Fact]
    public async Task A_refusal_from_Amplitude_forgets_what_was_remembered_for_that_path()
    {
        await using var outage = await ConfigOutage.StartAsync();
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);
        outage.AnswerStatus(403, """{"error":"invalid api key"}""");
        Assert.Equal(HttpStatusCode.Forbidden, (await outage.GetConfigAsync()).StatusCode);

        outage.AnswerStatus(503);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await outage.GetConfigAsync()).StatusCode);
    }

    [Fact]
    public async Task An_answer_over_64_KiB_is_relayed_whole_but_not_remembered_and_one_at_the_bound_is()
    {
        await using var outage = await ConfigOutage.StartAsync();
        var atBound = ConfigOfSize(64 * 1024);
        var overBound = ConfigOfSize((64 * 1024) + 1);
        var large = ConfigOfSize(300 * 1024);

        outage.Body = overBound;
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync("over"), overBound);
        outage.Body = large;
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync("large"), large);
        outage.Body = atBound;
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync("at"), atBound);

        outage.AnswerStatus(503);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await outage.GetConfigAsync("over")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await outage.GetConfigAsync("large")).StatusCode);
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync("at"), atBound);
    }

    [Fact]
    public async Task The_memory_holds_a_bounded_number_of_entries_and_the_least_recently_used_goes_first()
    {
        await using var outage = await ConfigOutage.StartAsync(new Dictionary<string, string?> { ["ConfigMemoryEntries"] = "2" });
        await outage.GetConfigAsync("a");
        await outage.GetConfigAsync("b");

        // "a" is used again (served from memory), so "b" is now the least recently used.
        outage.AnswerStatus(503);
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync("a"), ConfigOutage.Config);
        outage.Healthy();
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync("c"), ConfigOutage.Config);

        outage.AnswerStatus(503);
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync("a"), ConfigOutage.Config);
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync("c"), ConfigOutage.Config);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await outage.GetConfigAsync("b")).StatusCode);
    }

    [Fact]
    public async Task While_an_earlier_fetch_is_overdue_the_next_request_is_answered_from_memory_without_another_wait()
    {
        await using var outage = await ConfigOutage.StartAsync();
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);

        outage.Hang();
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync(), ConfigOutage.Config);
        Assert.True(await Eventually(() => outage.HungRequests == 1), "the first fetch never reached Amplitude");

        // The SDK's retry: no second fetch joins the outage, and the answer does not wait for a second deadline.
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync(), ConfigOutage.Config);
        Assert.Equal(1, outage.HungRequests);

        // Once Amplitude answers the overdue fetch, config is Amplitude's again.
        outage.Body = Updated;
        outage.Release();
        var forwarder = outage.Proxy.Services.GetRequiredService<ReplayProxy.ConfigFallback.ConfigForwarder>();
        Assert.True(await Eventually(() => forwarder.Memory.Recall("/config/abc123?config_group=browser", TimeSpan.FromDays(1)) is { Body.Length: var n } && n == Updated.Length));
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), Updated);
    }

    [Fact]
    public async Task A_late_answer_still_refreshes_the_memory()
    {
        await using var outage = await ConfigOutage.StartAsync();
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);

        outage.Hang();
        outage.Body = Updated;
        outage.Clock.Advance(TimeSpan.FromSeconds(30));
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync(), ConfigOutage.Config, TimeSpan.FromSeconds(30));

        // Amplitude answers the request the client no longer waits for; the proxy keeps that answer.
        outage.Release();
        var forwarder = outage.Proxy.Services.GetRequiredService<ReplayProxy.ConfigFallback.ConfigForwarder>();
        var refreshed = await Eventually(() => forwarder.Memory.Recall("/config/abc123?config_group=browser", TimeSpan.FromDays(1)) is { Body.Length: var n } && n == Updated.Length);
        Assert.True(refreshed, "the late answer did not replace the remembered one");

        outage.AnswerStatus(503);
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync(), Updated, TimeSpan.Zero);
    }

    [Fact]
    public async Task With_AllowedApiKeys_set_an_allowed_key_is_remembered_and_any_other_is_refused_even_in_an_outage()
    {
        await using var outage = await ConfigOutage.StartAsync(new Dictionary<string, string?> { ["AllowedApiKeys"] = "allowedkey" });
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync("allowedkey"), ConfigOutage.Config);
        await ProblemAssert.IsProblemAsync(await outage.GetConfigAsync("otherkey"), HttpStatusCode.Forbidden);

        outage.AnswerStatus(503);
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync("allowedkey"), ConfigOutage.Config);
        await ProblemAssert.IsProblemAsync(await outage.GetConfigAsync("otherkey"), HttpStatusCode.Forbidden);
        Assert.Equal(1, outage.Proxy.Services.GetRequiredService<ReplayProxy.ConfigFallback.ConfigForwarder>().Memory.Count);
    }

    [Fact]
    public async Task HEAD_and_OPTIONS_are_never_answered_from_memory()
    {
        await using var outage = await ConfigOutage.StartAsync();
        await ConfigResponseAssert.IsFreshAsync(await outage.GetConfigAsync(), ConfigOutage.Config);

        outage.AnswerStatus(503);
        var head = await outage.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/config/abc123?config_group=browser"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, head.StatusCode);
        Assert.False(ConfigOutage.IsStale(head));

        var preflight = new HttpRequestMessage(HttpMethod.Options, "/config/abc123?config_group=browser");
        preflight.Headers.Add("Origin", "https://www.example.com");
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        var options = await outage.Client.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, options.StatusCode);
        Assert.False(ConfigOutage.IsStale(options));
    }

    [Fact]
    public async Task A_compressed_answer_is_served_from_memory_only_to_a_client_that_accepts_its_coding()
    {
        await using var outage = await ConfigOutage.StartAsync();
        var gzipped = Gzip.Compress(System.Text.Encoding.UTF8.GetBytes(ConfigOutage.Config));
        outage.Upstream.Respond = async (context, _) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers.ContentEncoding = "gzip";
            await context.Response.Body.WriteAsync(gzipped);
        };
        void AcceptGzip(HttpRequestMessage r) => r.Headers.AcceptEncoding.ParseAdd("gzip, deflate, br");
        var first = await outage.GetConfigAsync(configure: AcceptGzip);
        Assert.Equal(gzipped, await first.Content.ReadAsByteArrayAsync());

        outage.AnswerStatus(503);
        var stale = await outage.GetConfigAsync(configure: AcceptGzip);
        Assert.True(ConfigOutage.IsStale(stale));
        Assert.Equal("gzip", Assert.Single(stale.Content.Headers.ContentEncoding));
        Assert.Equal(gzipped, await stale.Content.ReadAsByteArrayAsync());

        var identityOnly = await outage.GetConfigAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, identityOnly.StatusCode);
    }

    [Fact]
    public async Task The_config_request_and_answer_follow_the_proxys_header_policy()
    {
        await using var outage = await ConfigOutage.StartAsync(new Dictionary<string, string?>
        {
            ["AllowedOrigins"] = "https://www.example.com",
            ["UpstreamHeaders:X-Gateway-Token"] = "gateway",
        });
        outage.Upstream.Respond = async (context, _) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers.SetCookie = "amp=tracker; Path=/";
            context.Response.Headers.AccessControlAllowOrigin = "*";
            context.Response.Headers.AltSvc = "h3=\":443\"";
            context.Response.Headers["X-Upstream"] = "kept";
            await context.Response.WriteAsync(ConfigOutage.Config);
        };
        void Browser(HttpRequestMessage r)
        {
            r.Headers.Add("Origin", "https://www.example.com");
            r.Headers.Add("Cookie", "site_session=secret");
            r.Headers.Add("X-Forwarded-For", "6.6.6.6");
            r.Headers.Add("Accept", "*/*");
        }

        var response = await outage.GetConfigAsync("abc%2F123", "?config_group=browser&x=%2F%3D", Browser);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(outage.Upstream.Received);
        Assert.Equal("GET", received.Method);
        Assert.Equal("/config/abc%2F123", received.Path);
        Assert.Equal("?config_group=browser&x=%2F%3D", received.Query);
        Assert.Equal(outage.Upstream.BaseAddress.Authority, received.Host);
        Assert.Null(received.Header("Cookie"));
        Assert.Equal("127.0.0.1", received.Header("X-Forwarded-For"));
        Assert.Equal("gateway", received.Header("X-Gateway-Token"));
        Assert.Equal("*/*", received.Header("Accept"));
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.False(response.Headers.Contains("Alt-Svc"));
        Assert.Equal("kept", response.Headers.GetValues("X-Upstream").Single());
        Assert.Equal("https://www.example.com", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("true", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Credentials")));

        outage.AnswerStatus(503);
        var stale = await outage.GetConfigAsync("abc%2F123", "?config_group=browser&x=%2F%3D", Browser);
        Assert.True(ConfigOutage.IsStale(stale));
        Assert.Equal("https://www.example.com", Assert.Single(stale.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.False(stale.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Nothing_of_the_path_or_query_reaches_the_logs_when_answering_from_memory()
    {
        await using var outage = await ConfigOutage.StartAsync();
        await outage.GetConfigAsync("secretkey42", "?config_group=secretgroup");
        outage.AnswerStatus(503);
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync("secretkey42", "?config_group=secretgroup"), ConfigOutage.Config);
        await outage.UpstreamGoneAsync();
        await ConfigResponseAssert.IsStaleAsync(await outage.GetConfigAsync("secretkey42", "?config_group=secretgroup"), ConfigOutage.Config);

        var logs = outage.Proxy.Logs.Entries;
        Assert.Contains(logs, l => l.EventId.Id == 21);
        Assert.Contains(logs, l => l.EventId.Id == 22);
        Assert.DoesNotContain(logs, l => l.Message.Contains("secretkey42", StringComparison.Ordinal) || l.Message.Contains("secretgroup", StringComparison.Ordinal)
            || l.State.Contains("secretkey42", StringComparison.Ordinal) || l.State.Contains("secretgroup", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ConfigDeadlineMilliseconds", "0", "ReplayProxy:ConfigDeadlineMilliseconds is 0")]
    [InlineData("ConfigDeadlineMilliseconds", "31000", "ReplayProxy:ConfigDeadlineMilliseconds is 31000")]
    [InlineData("ConfigStaleLimitSeconds", "-1", "ReplayProxy:ConfigStaleLimitSeconds is -1")]
    [InlineData("ConfigMemoryEntries", "0", "ReplayProxy:ConfigMemoryEntries is 0")]
    public async Task Invalid_settings_stop_the_start_with_a_message_naming_the_setting(string setting, string value, string message)
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(
            () => ProxyHost.StartAsync(upstream, new Dictionary<string, string?> { [setting] = value }));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static string ConfigOfSize(int bytes)
    {
        const string head = """{"configs":{"pad":" """;
        const string tail = "\"}}";
        return head.TrimEnd() + new string('x', bytes - head.TrimEnd().Length - tail.Length) + tail;
    }

    private static async Task<bool> Eventually(Func<bool> condition)
    {
        await ReplayProxy.Testing.Eventually.WaitUntil(condition, TimeSpan.FromSeconds(5));
        return condition();
    }
}
