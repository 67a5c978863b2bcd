using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ReplayProxy.Infrastructure.Tests;

public class ParametersTests
{
    private static IReadOnlyList<BicepParam> MainParams() => Bicep.Params(Repo.Read("infra", "main.bicep"));

    private static BicepParam MainParam(string name)
    {
        var param = MainParams().SingleOrDefault(p => p.Name == name);
        Assert.True(param is not null, $"main.bicep has no param {name}");
        return param;
    }

    private static Dictionary<string, string> ParameterFile()
    {
        using var doc = JsonDocument.Parse(Repo.Read("infra", "main.parameters.json"));
        return doc.RootElement.GetProperty("parameters").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("value").GetString() ?? string.Empty, StringComparer.Ordinal);
    }

    private static int IntDecorator(BicepParam param, string decorator)
    {
        var m = Regex.Match(param.Decorators, $@"@{decorator}\((\d+)\)");
        Assert.True(m.Success, $"param {param.Name} lacks @{decorator}(...)");
        return int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void EveryMainParamIsDefaultedOrSuppliedByTheParameterFile()
    {
        var supplied = ParameterFile();
        var missing = MainParams().Where(p => p.Default is null && !supplied.ContainsKey(p.Name)).Select(p => p.Name).ToList();
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
        // Required and without a default, so azd prompts for it (or reads ALLOWED_ORIGINS).
        Assert.Equal("${ALLOWED_ORIGINS}", file["allowedOrigins"]);
    }

    [Fact]
    public void AllowedOriginsIsRequiredAndNeverAWildcard()
    {
        var origins = MainParam("allowedOrigins");
        Assert.Null(origins.Default);
        Assert.DoesNotContain("*", ParameterFile()["allowedOrigins"], StringComparison.Ordinal);
    }

    [Fact]
    public void AmplitudeRegionIsUsOrEu()
    {
        var region = MainParam("amplitudeRegion");
        Assert.Equal("'US'", region.Default);
        Assert.Matches(@"@allowed\(\[\s*'US'\s+'EU'\s*\]\)", region.Decorators);
    }

    [Fact]
    public void ScaleParametersHaveTheirDefaults()
    {
        var memory = MainParam("instanceMemoryMB");
        Assert.Equal("2048", memory.Default);
        Assert.Matches(@"@allowed\(\[\s*512\s+2048\s+4096\s*\]\)", memory.Decorators);

        var alwaysReady = MainParam("alwaysReadyInstanceCount");
        Assert.Equal("1", alwaysReady.Default);

        Assert.Equal("int", MainParam("maximumInstanceCount").Type);
        var concurrency = MainParam("httpPerInstanceConcurrency");
        Assert.Equal("int", concurrency.Type);
        // I/O-bound proxying: above the 2048 MB platform default of 16.
        Assert.True(int.Parse(concurrency.Default!, CultureInfo.InvariantCulture) > 16, "httpPerInstanceConcurrency should exceed the platform default of 16");
    }

    [Fact]
    public void OriginTimeoutSitsBetweenTheProxyUpstreamTimeoutAndThe230SecondCap()
    {
        var upstream = MainParam("upstreamTimeoutSeconds");
        Assert.Equal("30", upstream.Default);
        var origin = MainParam("originResponseTimeoutSeconds");
        var value = int.Parse(origin.Default!, CultureInfo.InvariantCulture);
        Assert.InRange(value, 31, 229);
        Assert.True(IntDecorator(origin, "minValue") > 30, "originResponseTimeoutSeconds must not go down to the upstream timeout");
        Assert.True(IntDecorator(origin, "maxValue") < 230, "originResponseTimeoutSeconds must stay under the 230 s cap");

        // main.bicep also clamps against a raised upstream timeout before passing the value on.
        var main = Bicep.StripComments(Repo.Read("infra", "main.bicep"));
        Assert.Matches(@"min\(\s*max\(\s*originResponseTimeoutSeconds\s*,\s*upstreamTimeoutSeconds\s*\+\s*\d+\s*\)\s*,\s*229\s*\)", main);
        Assert.Matches(@"originResponseTimeoutSeconds:\s*frontDoorOriginTimeoutSeconds", main);
    }

    [Fact]
    public void BodyLimitStaysUnderTheWorkerKestrelLimit()
    {
        var body = MainParam("maxRequestBodyBytes");
        Assert.Equal("20971520", body.Default);
        Assert.True(IntDecorator(body, "maxValue") < 30_000_000, "the worker's Kestrel rejects bodies over 30,000,000 bytes");
    }
}
