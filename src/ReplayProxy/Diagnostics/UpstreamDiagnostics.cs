using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ReplayProxy.Diagnostics;

/// <summary>
/// <c>GET /healthz/upstreams</c>: each upstream host in use checked step by step, plus a summary of the settings with
/// no secret in it. One check at a time and its result reused for <see cref="ReuseFor"/>, so the endpoint cannot be
/// used to make the proxy flood Amplitude: concurrent calls share the check in flight.
/// </summary>
internal sealed class UpstreamDiagnostics
{
    public static readonly TimeSpan ReuseFor = TimeSpan.FromSeconds(10);

    private readonly ReplayProxyOptions _options;
    private readonly ReplayProxySettings _settings;
    private readonly UpstreamProbe _probe;
    private readonly TimeProvider _time;
    private readonly Spool.OutageSpool _spool;
    private readonly Lock _lock = new();
    private Task<UpstreamHealthReport>? _current;
    private DateTimeOffset _completedAt;
    private volatile bool _euInUse;
    private volatile bool _usInUse;

    public UpstreamDiagnostics(IOptions<ReplayProxyOptions> options, ReplayProxySettings settings, UpstreamClient upstream, UpstreamCertificateValidation certificates, TimeProvider time, Spool.OutageSpool spool)
    {
        _spool = spool;
        _options = options.Value;
        _settings = settings;
        _time = time;
        _probe = new UpstreamProbe(upstream.Invoker, settings, certificates, time);
    }

    /// <summary>A region-prefixed request arrived: that region's hosts are checked from the next check on. Until
    /// then only the configured region's are, so a one-region deployment probes three hosts, not six.</summary>
    public void NoteRegionInUse(string region)
    {
        // Read before writing: every prefixed request passes here, and a write each time would bounce the cache line.
        if (region == AmplitudeRegion.EU)
        {
            if (!_euInUse)
            {
                _euInUse = true;
            }
        }
        else if (!_usInUse)
        {
            _usInUse = true;
        }
    }

    public Task<UpstreamHealthReport> CheckAsync()
    {
        lock (_lock)
        {
            if (_current is { } current && (!current.IsCompleted || _time.GetUtcNow() - _completedAt < ReuseFor))
            {
                return current;
            }

            // Not tied to any caller's cancellation: every caller waits for the same check.
            return _current = Task.Run(RunAsync);
        }
    }

    public async Task<int> WriteAsync(HttpContext context)
    {
        var report = await CheckAsync();
        var status = report.AllReachable ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        using var buffer = new PooledBuffer(4096);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            report.Write(json, SettingsSummary.From(_options, _settings), SpoolReport());
        }

        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
        return status;
    }

    /// <summary>What the spool holds (no names, no contents); null when spooling is off.</summary>
    private SpoolReport? SpoolReport() =>
        _spool.Store is { } store
            ? new SpoolReport(store.Kind, store.Stats.Depth, store.Stats.Bytes, _spool.OldestAge(store.Stats)?.TotalSeconds)
            : null;

    private async Task<UpstreamHealthReport> RunAsync()
    {
        var checkedAt = _time.GetUtcNow();
        var results = await Task.WhenAll(Targets().Select(_probe.ProbeAsync));
        lock (_lock)
        {
            _completedAt = _time.GetUtcNow();
        }

        return new UpstreamHealthReport(checkedAt, results);
    }

    /// <summary>The distinct hosts in use (scheme, host, port), each with the routes and regions that go there.</summary>
    private IEnumerable<UpstreamTarget> Targets()
    {
        var regions = AmplitudeRegion.All.Where(r => r == _settings.Region || (r == AmplitudeRegion.EU ? _euInUse : _usInUse));
        var kinds = regions.SelectMany(region => AmplitudeRegion.UpstreamKinds.Select(kind =>
            (Name: kind.ToString().ToLowerInvariant(), Region: region, Upstream: _settings.For(region, kind)))).ToArray();
        static bool IsHttps(UpstreamBaseUrl upstream) => upstream.Target("/", null).Scheme == Uri.UriSchemeHttps;
        return kinds
            .GroupBy(k => (Https: IsHttps(k.Upstream), Host: k.Upstream.Host.ToLowerInvariant(), k.Upstream.Port))
            .Select(g => new UpstreamTarget(
                g.First().Upstream,
                g.Key.Https,
                g.Select(k => k.Name).Distinct().ToArray(),
                g.Select(k => k.Region).Distinct().ToArray()));
    }
}

/// <summary>The spool's state as the endpoint reports it.</summary>
internal readonly record struct SpoolReport(string Store, long Depth, long Bytes, double? OldestAgeSeconds);

/// <summary>The outcome of one check, written as the endpoint's JSON.</summary>
internal sealed record UpstreamHealthReport(DateTimeOffset CheckedAt, IReadOnlyList<UpstreamProbeResult> Upstreams)
{
    public bool AllReachable => Upstreams.All(u => u.Reachable);

    public void Write(Utf8JsonWriter json, SettingsSummary settings, SpoolReport? spool)
    {
        json.WriteStartObject();
        json.WriteString("status", AllReachable ? "healthy" : "unhealthy");
        json.WriteString("checkedAt", CheckedAt.ToString("O", CultureInfo.InvariantCulture));
        json.WriteNumber("reusedForSeconds", UpstreamDiagnostics.ReuseFor.TotalSeconds);
        json.WriteStartArray("upstreams");
        foreach (var u in Upstreams)
        {
            json.WriteStartObject();
            json.WriteString("host", u.Target.Upstream.Host);
            json.WriteNumber("port", u.Target.Upstream.Port);
            json.WriteString("scheme", u.Target.Https ? "https" : "http");
            json.WriteStartArray("usedBy");
            foreach (var name in u.Target.UsedBy)
            {
                json.WriteStringValue(name);
            }

            json.WriteEndArray();
            json.WriteStartArray("regions");
            foreach (var region in u.Target.Regions)
            {
                json.WriteStringValue(region);
            }

            json.WriteEndArray();
            json.WriteBoolean("reachable", u.Reachable);
            WriteStep(json, "dns", u.Dns);
            json.WriteNumber("addresses", u.AddressCount);
            json.WriteEndObject();
            WriteStep(json, "connect", u.Connect);
            json.WriteEndObject();
            if (u.Tls is { } tls)
            {
                WriteStep(json, "tls", tls);
                WriteOptional(json, "protocol", u.TlsProtocol);
                if (u.CertificateDaysToExpiry is { } days)
                {
                    json.WriteNumber("certificateDaysToExpiry", days);
                    json.WriteString("certificateNotAfter", u.CertificateNotAfter!.Value.ToString("O", CultureInfo.InvariantCulture));
                }

                json.WriteEndObject();
            }

            WriteStep(json, "http", u.Http);
            if (u.HttpStatus is { } status)
            {
                json.WriteNumber("status", status);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (spool is { } kept)
        {
            json.WriteStartObject("spool");
            json.WriteString("store", kept.Store);
            json.WriteNumber("depth", kept.Depth);
            json.WriteNumber("bytes", kept.Bytes);
            if (kept.OldestAgeSeconds is { } age)
            {
                json.WriteNumber("oldestAgeSeconds", Math.Round(age, 1));
            }
            else
            {
                json.WriteNull("oldestAgeSeconds");
            }

            json.WriteEndObject();
        }

        settings.Write(json);
        json.WriteEndObject();
    }

    /// <summary>Opens the step's object; the caller may add fields, then closes it.</summary>
    private static void WriteStep(Utf8JsonWriter json, string name, StepResult step)
    {
        json.WriteStartObject(name);
        json.WriteBoolean("ok", step.Ok);
        json.WriteNumber("milliseconds", step.Milliseconds);
        WriteOptional(json, "error", step.Error);
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }
}
