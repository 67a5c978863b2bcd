using System.Text.Json;

namespace ReplayProxy.Tests.Unit;

/// <summary>
/// The table of origin and key lists that main.bicep checks too (tests/settings-validation-cases.json; the
/// infrastructure tests run the same values through infra/app/validation.bicep): what the template lets through, the
/// worker must accept at start, and what it stops, the worker would refuse.
/// </summary>
public sealed class SharedValidationCasesTests
{
    public static TheoryData<string, string, bool> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Repo.PathOf("tests", "settings-validation-cases.json")));
        var data = new TheoryData<string, string, bool>();
        foreach (var setting in new[] { "allowedOrigins", "allowedApiKeys" })
        {
            foreach (var (kind, valid) in new[] { ("valid", true), ("invalid", false) })
            {
                foreach (var value in doc.RootElement.GetProperty(setting).GetProperty(kind).EnumerateArray())
                {
                    data.Add(setting, value.GetString()!, valid);
                }
            }
        }

        return data;
    }

    public static TheoryData<string, string, bool> PathCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Repo.PathOf("tests", "settings-validation-cases.json")));
        var data = new TheoryData<string, string, bool>();
        foreach (var (kind, valid) in new[] { ("valid", true), ("invalid", false) })
        {
            foreach (var pair in doc.RootElement.GetProperty("paths").GetProperty(kind).EnumerateArray())
            {
                data.Add(pair[0].GetString()!, pair[1].GetString()!, valid);
            }
        }

        return data;
    }

    /// <summary>One path at a time, the others at their defaults: the per-path rules main.bicep applies too.</summary>
    [Theory]
    [MemberData(nameof(PathCases))]
    public void The_proxy_accepts_exactly_the_paths_the_template_accepts(string name, string path, bool valid)
    {
        var options = new ReplayProxyOptions();
        typeof(ReplayPathOptions).GetProperty(name)!.SetValue(options.Paths, path);

        var result = new ReplayProxyOptionsValidator().Validate(null, options);

        Assert.True(valid == result.Succeeded, $"Paths:{name} '{path}': expected {(valid ? "valid" : "refused")}, got {result.FailureMessage}");
        if (!valid)
        {
            Assert.Contains("ReplayProxy:Paths:" + name, Assert.Single(result.Failures!), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_proxy_accepts_exactly_the_values_the_template_accepts(string setting, string value, bool valid)
    {
        var options = new ReplayProxyOptions();
        if (setting == "allowedOrigins")
        {
            options.AllowedOrigins = value;
        }
        else
        {
            options.AllowedApiKeys = value;
        }

        var result = new ReplayProxyOptionsValidator().Validate(null, options);

        Assert.True(valid == result.Succeeded, $"{setting} '{value}': expected {(valid ? "valid" : "refused")}, got {result.FailureMessage}");
        if (!valid)
        {
            var name = setting == "allowedOrigins" ? "ReplayProxy:AllowedOrigins" : "ReplayProxy:AllowedApiKeys";
            Assert.StartsWith(name, Assert.Single(result.Failures!), StringComparison.Ordinal);
        }
    }
}
