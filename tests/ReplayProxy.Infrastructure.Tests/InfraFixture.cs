using System.Text.Json;

namespace ReplayProxy.Infrastructure.Tests;

/// <summary>
/// Compiles infra/main.bicep with the real Bicep CLI once per test run (into a temp folder) and snapshots it with
/// a full set of parameter values, every optional feature on and every tunable off its default, so that each
/// value seen in the snapshot proves the wiring from main.bicep's parameter to the resource property.
/// </summary>
public sealed class InfraFixture : IDisposable
{
    public static readonly IReadOnlyDictionary<string, object> DeployedParameters = new Dictionary<string, object>
    {
        ["environmentName"] = "ci",
        ["location"] = "swedencentral",
        // Spaces and an empty entry: main.bicep trims and drops them.
        ["allowedOrigins"] = " https://www.example.com, https://app.example.com ,",
        ["amplitudeRegion"] = "eu",
        ["allowedApiKeys"] = "key1,key2",
        ["customDomainName"] = "replay.example.com",
        ["dnsZoneName"] = "example.com",
        ["dnsZoneResourceGroupName"] = "rg-dns",
        ["instanceMemoryMB"] = 4096,
        ["maximumInstanceCount"] = 250,
        ["alwaysReadyInstanceCount"] = 2,
        ["httpPerInstanceConcurrency"] = 80,
        ["upstreamTimeoutSeconds"] = 45,
        ["originResponseTimeoutSeconds"] = 90,
        ["maxRequestBodyBytes"] = 10485760,
        ["wafRateLimitPerMinute"] = 600,
        ["proxyPathTrack"] = "/r/t",
        ["proxyPathConfig"] = "/r/c",
        ["proxyPathHttpApi"] = "/r/e",
        ["proxyPathBatch"] = "/r/b",
        ["proxyPathLegacy"] = "/r/l",
        // A name with '-', which an app setting name cannot hold; an empty entry (azd's when UPSTREAM_HEADER_NAME is
        // unset), which main.bicep drops; a padded name.
        ["upstreamHeaders"] = new[] { Header("X-Proxy-Auth", SecretHeaderValue), Header(" ", ""), Header(" X-Tenant ", "acme") },
    };

    public const string SecretHeaderValue = "s3cret-header-value";

    public static IReadOnlyDictionary<string, object> Header(string name, string value) =>
        new Dictionary<string, object> { ["name"] = name, ["value"] = value };

    private readonly string _work = Directory.CreateTempSubdirectory("replay-infra-").FullName;
    private readonly string _infraCopy;

    public InfraFixture()
    {
        var outDir = Path.Combine(_work, "build");
        Directory.CreateDirectory(outDir);
        Build = BicepCli.Run(Repo.Root, "build", Path.Combine(Repo.Infra, "main.bicep"), "--outdir", outDir);
        Assert.True(Build.ExitCode == 0, "bicep build infra/main.bicep failed:\n" + Build.Output);
        Template = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "main.json"))).RootElement.Clone();
        TemplateText = File.ReadAllText(Path.Combine(outDir, "main.json"));

        _infraCopy = Path.Combine(_work, "infra");
        CopyDirectory(Repo.Infra, _infraCopy);
        Deployed = Snapshot.Take(_infraCopy, "deployed", DeployedParameters);
    }

    public BicepCli.Result Build { get; }

    /// <summary>The compiled main.json (modules inline as Microsoft.Resources/deployments).</summary>
    public JsonElement Template { get; }

    public string TemplateText { get; }

    public IReadOnlyList<ArmResource> AllResources => ArmTemplate.AllResources(Template).ToList();

    /// <summary>Snapshot with <see cref="DeployedParameters"/>.</summary>
    public Snapshot Deployed { get; }

    /// <summary>Snapshot with <see cref="DeployedParameters"/> changed by <paramref name="changes"/> (a null value removes the parameter).</summary>
    public Snapshot Take(string name, IReadOnlyDictionary<string, object?> changes)
    {
        var parameters = DeployedParameters.ToDictionary(p => p.Key, p => p.Value);
        foreach (var (key, value) in changes)
        {
            if (value is null)
            {
                parameters.Remove(key);
            }
            else
            {
                parameters[key] = value;
            }
        }

        return Snapshot.Take(_infraCopy, name, parameters);
    }

    /// <summary>Snapshot of a template written next to main.bicep in the copy (so it can import from app/).</summary>
    public Snapshot TakeTemplate(string name, string bicep, IReadOnlyDictionary<string, object> parameters)
    {
        File.WriteAllText(Path.Combine(_infraCopy, name + ".bicep"), bicep);
        return Snapshot.Take(_infraCopy, name, parameters, name + ".bicep");
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class InfraCollection : ICollectionFixture<InfraFixture>
{
    public const string Name = "compiled infra";
}
