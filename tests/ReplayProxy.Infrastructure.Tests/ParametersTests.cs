using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ReplayProxy.Infrastructure.Tests;

[Collection(InfraCollection.Name)]
public class ParametersTests(InfraFixture infra)
{
    private JsonElement Param(string name) => ArmTemplate.Parameter(infra.Template, name);

    private int Int(string param, string property)
    {
        Assert.True(Param(param).TryGetProperty(property, out var value), $"param {param} has no {property}");
        return value.GetInt32();
    }

    private static Dictionary<string, string> ParameterFile()
    {
        using var doc = JsonDocument.Parse(Repo.Read("infra", "main.parameters.json"));
        return doc.RootElement.GetProperty("parameters").EnumerateObject()
            .Where(p => p.Value.GetProperty("value").ValueKind == JsonValueKind.String)
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("value").GetString() ?? string.Empty, StringComparer.Ordinal);
    }

    private IEnumerable<JsonProperty> MainParams() => infra.Template.GetProperty("parameters").EnumerateObject();

    [Fact]
    public void EveryMainParamIsDefaultedOrSuppliedByTheParameterFile()
    {
        var supplied = ParameterFile();
        var missing = MainParams().Where(p => !p.Value.TryGetProperty("defaultValue", out _) && !supplied.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        Assert.True(missing.Count == 0, "params with neither a default nor a main.parameters.json value: " + string.Join(", ", missing));
    }

    [Fact]
    public void ParameterFileOnlyNamesMainParamsAndUsesAzdSubstitution()
    {
        var names = MainParams().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var file = ParameterFile();
        Assert.All(file.Keys, k => Assert.True(names.Contains(k), $"main.parameters.json sets {k}, which main.bicep does not declare"));
        Assert.All(file, kv => Assert.Matches(@"^\$\{[A-Z][A-Z0-9_]*(=[^}]*)?\}$", kv.Value));
        Assert.Equal("${AZURE_ENV_NAME}", file["environmentName"]);
        Assert.Equal("${AZURE_LOCATION}", file["location"]);
        Assert.Equal("${DNS_ZONE_NAME}", file["dnsZoneName"]);
        Assert.Equal("${DNS_ZONE_RESOURCE_GROUP}", file["dnsZoneResourceGroupName"]);
        Assert.Equal("${AMPLITUDE_REGION=US}", file["amplitudeRegion"]);
        Assert.Equal("${PROXY_PATH_TRACK=/sessions/v2/track}", file["proxyPathTrack"]);
        Assert.Equal("${PROXY_PATH_CONFIG=/config}", file["proxyPathConfig"]);
        Assert.Equal("${PROXY_PATH_HTTPAPI=/2/httpapi}", file["proxyPathHttpApi"]);
        Assert.Equal("${PROXY_PATH_BATCH=/batch}", file["proxyPathBatch"]);
        Assert.Equal("${PROXY_PATH_LEGACY=/}", file["proxyPathLegacy"]);
        // Required and without a default, so azd prompts for it (or reads ALLOWED_ORIGINS).
        Assert.Equal("${ALLOWED_ORIGINS}", file["allowedOrigins"]);
        // Required too: an empty list would make the proxy an open relay; '*' is the explicit way to accept any key.
        Assert.Equal("${ALLOWED_API_KEYS}", file["allowedApiKeys"]);
    }

    [Fact]
    public void UpstreamHeadersTakeTheFirstEntryFromAzdAndHaveSecureValues()
    {
        using var doc = JsonDocument.Parse(Repo.Read("infra", "main.parameters.json"));
        var entry = Assert.Single(doc.RootElement.GetProperty("parameters").GetProperty("upstreamHeaders").GetProperty("value").EnumerateArray());
        Assert.Equal("${UPSTREAM_HEADER_NAME}", entry.GetProperty("name").GetString());
        Assert.Equal("${UPSTREAM_HEADER_VALUE}", entry.GetProperty("value").GetString());

        Assert.Empty(Param("upstreamHeaders").GetProperty("defaultValue").EnumerateArray());
        var type = infra.Template.GetProperty("definitions").GetProperty("upstreamHeader").GetProperty("properties");
        Assert.Equal("securestring", type.GetProperty("value").GetProperty("type").GetString());
        // The module takes them typed too, so the values stay secure in the nested deployment.
        var module = ArmTemplate.Module(infra.Template, "api").Properties.GetProperty("template");
        Assert.Equal("securestring", module.GetProperty("definitions").GetProperty("upstreamHeader").GetProperty("properties").GetProperty("value").GetProperty("type").GetString());
    }

    [Fact]
    public void AllowedApiKeysIsRequiredAndStarIsPassedOnAsIs()
    {
        Assert.False(Param("allowedApiKeys").TryGetProperty("defaultValue", out _));
        Assert.Equal(1, Int("allowedApiKeys", "minLength"));
        var any = infra.Take("any-key", new Dictionary<string, object?> { ["allowedApiKeys"] = "*" });
        var settings = Assert.Single(any.OfType("Microsoft.Web/sites/config")).GetProperty("properties");
        Assert.Equal("*", settings.GetProperty("ReplayProxy__AllowedApiKeys").GetString());
        Assert.False(infra.Take("no-keys", new Dictionary<string, object?> { ["allowedApiKeys"] = null }).Succeeded);
    }

    [Fact]
    public void AllowedOriginsIsRequiredAndNeverAWildcard()
    {
        Assert.False(Param("allowedOrigins").TryGetProperty("defaultValue", out _));
        Assert.Equal(1, Int("allowedOrigins", "minLength"));
        Assert.DoesNotContain("*", ParameterFile()["allowedOrigins"], StringComparison.Ordinal);
    }

    [Fact]
    public void AmplitudeRegionDefaultsToUsAndIsNotCaseSensitiveLikeTheProxy()
    {
        Assert.Equal("US", Param("amplitudeRegion").GetProperty("defaultValue").GetString());
        // A case-sensitive allow-list would refuse 'eu', which the proxy accepts; the template upper-cases instead.
        Assert.False(Param("amplitudeRegion").TryGetProperty("allowedValues", out _));
        Assert.Equal("EU", infra.Deployed.Output("AMPLITUDE_REGION"));
    }

    [Fact]
    public void ScaleParametersHaveTheirDefaultsAndFlexBounds()
    {
        Assert.Equal(2048, Int("instanceMemoryMB", "defaultValue"));
        Assert.Equal([512, 2048, 4096], Param("instanceMemoryMB").GetProperty("allowedValues").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(1, Int("alwaysReadyInstanceCount", "defaultValue"));

        // Flex Consumption supports a maximum instance count of 40 to 1000.
        Assert.Equal(100, Int("maximumInstanceCount", "defaultValue"));
        Assert.Equal(40, Int("maximumInstanceCount", "minValue"));
        Assert.Equal(1000, Int("maximumInstanceCount", "maxValue"));
        var module = ArmTemplate.Module(infra.Template, "api").Properties.GetProperty("template");
        Assert.Equal(40, ArmTemplate.Parameter(module, "maximumInstanceCount").GetProperty("minValue").GetInt32());

        // I/O-bound proxying: above the 2048 MB platform default of 16.
        Assert.True(Int("httpPerInstanceConcurrency", "defaultValue") > 16, "httpPerInstanceConcurrency should exceed the platform default of 16");
    }

    [Fact]
    public void UpstreamTimeoutAcceptsWhatTheProxyAccepts()
    {
        Assert.Equal(30, Int("upstreamTimeoutSeconds", "defaultValue"));
        Assert.Equal(1, Int("upstreamTimeoutSeconds", "minValue"));
        var validator = Repo.Read("src", "ReplayProxy", "Configuration", "ReplayProxyOptionsValidator.cs");
        var proxyMax = Regex.Match(validator, @"MaxUpstreamTimeoutSeconds\s*=\s*(\d+)");
        Assert.True(proxyMax.Success, "ReplayProxyOptionsValidator.MaxUpstreamTimeoutSeconds not found");
        Assert.Equal(int.Parse(proxyMax.Groups[1].Value, CultureInfo.InvariantCulture), Int("upstreamTimeoutSeconds", "maxValue"));
    }

    [Fact]
    public void OriginTimeoutSitsBetweenTheProxyUpstreamTimeoutAndThe230SecondCap()
    {
        Assert.Equal(60, Int("originResponseTimeoutSeconds", "defaultValue"));
        Assert.True(Int("originResponseTimeoutSeconds", "minValue") > 30, "originResponseTimeoutSeconds must not go down to the upstream timeout");
        Assert.True(Int("originResponseTimeoutSeconds", "maxValue") < 230, "originResponseTimeoutSeconds must stay under the 230 s cap");

        // main.bicep raises Front Door's timeout above a raised upstream timeout, and keeps it under the cap.
        var slow = infra.Take("slow-upstream", new Dictionary<string, object?> { ["upstreamTimeoutSeconds"] = 225, ["originResponseTimeoutSeconds"] = 60 });
        Assert.Equal(229, slow.Single("Microsoft.Cdn/profiles").GetProperty("properties").GetProperty("originResponseTimeoutSeconds").GetInt32());
        var raised = infra.Take("raised-upstream", new Dictionary<string, object?> { ["upstreamTimeoutSeconds"] = 100, ["originResponseTimeoutSeconds"] = 60 });
        Assert.Equal(110, raised.Single("Microsoft.Cdn/profiles").GetProperty("properties").GetProperty("originResponseTimeoutSeconds").GetInt32());
    }

    [Fact]
    public void BodyLimitStaysUnderTheWorkerKestrelLimit()
    {
        Assert.Equal(20971520, Int("maxRequestBodyBytes", "defaultValue"));
        Assert.True(Int("maxRequestBodyBytes", "maxValue") < 30_000_000, "the worker's Kestrel rejects bodies over 30,000,000 bytes");
    }
}
