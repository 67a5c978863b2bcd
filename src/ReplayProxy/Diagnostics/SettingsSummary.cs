using System.Text.Json;

namespace ReplayProxy.Diagnostics;

/// <summary>What a support person needs to know of the settings, with no secret: overrides as host names only, lists
/// as counts, no API key, origin, Front Door id or extra header value.</summary>
internal sealed record SettingsSummary(
    string Region,
    string? ReplayOverrideHost,
    string? ConfigOverrideHost,
    string? AnalyticsOverrideHost,
    int AllowedOrigins,
    int AllowedApiKeys,
    bool FrontDoorCheck,
    int ExtraUpstreamHeaders,
    int UpstreamTimeoutSeconds,
    long MaxRequestBodyBytes,
    int ConfigDeadlineMilliseconds,
    int ConfigStaleLimitSeconds,
    int ConfigMemoryEntries)
{
    public static SettingsSummary From(ReplayProxyOptions options, ReplayProxySettings settings) => new(
        options.Region.ToUpperInvariant(),
        OverrideHost(options.Upstreams.Replay, settings.ReplayUpstream),
        OverrideHost(options.Upstreams.Config, settings.ConfigUpstream),
        OverrideHost(options.Upstreams.Analytics, settings.AnalyticsUpstream),
        SettingList.Split(options.AllowedOrigins).Length,
        SettingList.Split(options.AllowedApiKeys).Length,
        settings.FrontDoorId is not null,
        settings.ExtraUpstreamHeaders.Count,
        options.UpstreamTimeoutSeconds,
        options.MaxRequestBodyBytes,
        options.ConfigDeadlineMilliseconds,
        options.ConfigStaleLimitSeconds,
        options.ConfigMemoryEntries);

    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject("settings");
        json.WriteString("region", Region);
        json.WriteStartObject("upstreamOverrides");
        WriteHost(json, "replay", ReplayOverrideHost);
        WriteHost(json, "config", ConfigOverrideHost);
        WriteHost(json, "analytics", AnalyticsOverrideHost);
        json.WriteEndObject();
        json.WriteNumber("allowedOrigins", AllowedOrigins);
        json.WriteNumber("allowedApiKeys", AllowedApiKeys);
        json.WriteBoolean("frontDoorCheck", FrontDoorCheck);
        json.WriteNumber("extraUpstreamHeaders", ExtraUpstreamHeaders);
        json.WriteStartObject("limits");
        json.WriteNumber("upstreamTimeoutSeconds", UpstreamTimeoutSeconds);
        json.WriteNumber("maxRequestBodyBytes", MaxRequestBodyBytes);
        json.WriteNumber("configDeadlineMilliseconds", ConfigDeadlineMilliseconds);
        json.WriteNumber("configStaleLimitSeconds", ConfigStaleLimitSeconds);
        json.WriteNumber("configMemoryEntries", ConfigMemoryEntries);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static string? OverrideHost(string? value, UpstreamBaseUrl resolved) => string.IsNullOrWhiteSpace(value) ? null : resolved.Host;

    private static void WriteHost(Utf8JsonWriter json, string name, string? host)
    {
        if (host is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, host);
        }
    }
}
