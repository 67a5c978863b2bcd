using System.Text.Json;

namespace ReplayProxy.Diagnostics;

/// <summary>What a support person needs to know of the settings, with no secret: overrides as host names only, lists
/// as counts, no API key, origin, Front Door id or extra header value.</summary>
internal sealed record SettingsSummary(
    string Region,
    IReadOnlyList<KeyValuePair<string, string?>> OverrideHosts,
    int AllowedOrigins,
    int AllowedApiKeys,
    bool AnyApiKey,
    bool FrontDoorCheck,
    int ExtraUpstreamHeaders,
    int UpstreamTimeoutSeconds,
    long MaxRequestBodyBytes,
    int ConfigDeadlineMilliseconds,
    int ConfigStaleLimitSeconds,
    int ConfigMemoryEntries,
    bool AllowSdkDiagnostics)
{
    public static SettingsSummary From(ReplayProxyOptions options, ReplayProxySettings settings) => new(
        settings.Region,
        OverrideHostsOf(options.Upstreams),
        SettingList.Split(options.AllowedOrigins).Length,
        settings.ApiKeys.Count,
        settings.ApiKeys.AllowsAny,
        settings.FrontDoorId is not null,
        settings.ExtraUpstreamHeaders.Count,
        options.UpstreamTimeoutSeconds,
        options.MaxRequestBodyBytes,
        options.ConfigDeadlineMilliseconds,
        options.ConfigStaleLimitSeconds,
        options.ConfigMemoryEntries,
        options.AllowSdkDiagnostics);

    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject("settings");
        json.WriteString("region", Region);
        json.WriteStartObject("upstreamOverrides");
        foreach (var (name, host) in OverrideHosts)
        {
            WriteHost(json, name, host);
        }

        json.WriteEndObject();
        json.WriteNumber("allowedOrigins", AllowedOrigins);
        json.WriteNumber("allowedApiKeys", AllowedApiKeys);
        json.WriteBoolean("anyApiKey", AnyApiKey);
        json.WriteBoolean("frontDoorCheck", FrontDoorCheck);
        json.WriteNumber("extraUpstreamHeaders", ExtraUpstreamHeaders);
        json.WriteBoolean("allowSdkDiagnostics", AllowSdkDiagnostics);
        json.WriteStartObject("limits");
        json.WriteNumber("upstreamTimeoutSeconds", UpstreamTimeoutSeconds);
        json.WriteNumber("maxRequestBodyBytes", MaxRequestBodyBytes);
        json.WriteNumber("configDeadlineMilliseconds", ConfigDeadlineMilliseconds);
        json.WriteNumber("configStaleLimitSeconds", ConfigStaleLimitSeconds);
        json.WriteNumber("configMemoryEntries", ConfigMemoryEntries);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Every <c>Upstreams:*</c> setting as <c>replay</c>, <c>euReplay</c>, ...: its host name, or null when unset.
    /// Region-specific ones appear only when set, so a one-region deployment's summary reads as before.</summary>
    private static KeyValuePair<string, string?>[] OverrideHostsOf(UpstreamOverrides overrides)
    {
        var hosts = new List<KeyValuePair<string, string?>>();
        foreach (var kind in AmplitudeRegion.UpstreamKinds)
        {
            var (name, value) = overrides.ForDefaultRegion(kind);
            hosts.Add(KeyValuePair.Create(JsonNamingPolicy.CamelCase.ConvertName(name), HostOf(value)));
        }

        foreach (var region in AmplitudeRegion.All)
        {
            foreach (var kind in AmplitudeRegion.UpstreamKinds)
            {
                var (name, value) = overrides.ForRegion(region, kind);
                if (HostOf(value) is { } host)
                {
                    hosts.Add(KeyValuePair.Create(JsonNamingPolicy.CamelCase.ConvertName(name), (string?)host));
                }
            }
        }

        return [.. hosts];
    }

    private static string? HostOf(string? value) => string.IsNullOrWhiteSpace(value) ? null : new Uri(value, UriKind.Absolute).Host;

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
