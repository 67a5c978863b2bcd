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
