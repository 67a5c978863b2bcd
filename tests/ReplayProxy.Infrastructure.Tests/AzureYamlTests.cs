using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace ReplayProxy.Infrastructure.Tests;

[Collection(InfraCollection.Name)]
public class AzureYamlTests(InfraFixture infra)
{
    internal static YamlMappingNode Root()
    {
        var stream = new YamlStream();
        using var reader = new StringReader(Repo.Read("azure.yaml"));
        stream.Load(reader);
        return Assert.IsType<YamlMappingNode>(stream.Documents.Single().RootNode);
    }

    internal static YamlMappingNode Map(YamlMappingNode node, string key)
    {
        Assert.True(node.Children.ContainsKey(new YamlScalarNode(key)), $"azure.yaml: missing '{key}'");
        return Assert.IsType<YamlMappingNode>(node.Children[new YamlScalarNode(key)]);
    }

    internal static string Scalar(YamlMappingNode node, string key)
    {
        Assert.True(node.Children.ContainsKey(new YamlScalarNode(key)), $"azure.yaml: missing '{key}'");
        return Assert.IsType<YamlScalarNode>(node.Children[new YamlScalarNode(key)]).Value ?? string.Empty;
    }

    /// <summary>The single service in azure.yaml (the template deploys one function app).</summary>
    internal static (string Name, YamlMappingNode Node) Service()
    {
        var services = Map(Root(), "services");
        var entry = Assert.Single(services.Children);
        return (((YamlScalarNode)entry.Key).Value!, Assert.IsType<YamlMappingNode>(entry.Value));
    }

    [Fact]
    public void ApiServiceIsTheFunctionsProjectOnAzureFunctions()
    {
        var (name, service) = Service();
        Assert.Equal("api", name);
        Assert.Equal("./src/ReplayProxy.Functions", Scalar(service, "project"));
        Assert.Equal("dotnet", Scalar(service, "language"));
        Assert.Equal("function", Scalar(service, "host"));
    }

    [Fact]
    public void ServiceProjectExistsAndTargetsNet10()
    {
        var (_, service) = Service();
        var projectDir = Path.GetFullPath(Path.Combine(Repo.Root, Scalar(service, "project")));
        Assert.True(Directory.Exists(projectDir), $"azure.yaml project path {projectDir} does not exist");

        var csproj = Assert.Single(Directory.GetFiles(projectDir, "*.csproj"));
        var text = File.ReadAllText(csproj);
        // Either set in the project or inherited from Directory.Build.props (which sets net10.0).
        var framework = Regex.Match(text, @"<TargetFrameworks?>([^<]+)</TargetFrameworks?>");
        var effective = framework.Success
            ? framework.Groups[1].Value
            : Regex.Match(Repo.Read("Directory.Build.props"), @"<TargetFramework>([^<]+)</TargetFramework>").Groups[1].Value;
        Assert.Equal("net10.0", effective.Trim());
    }

    [Fact]
    public void InfraPointsAtMainBicep()
    {
        var infra = Map(Root(), "infra");
        Assert.Equal("bicep", Scalar(infra, "provider"));
        Assert.Equal("infra", Scalar(infra, "path"));
        Assert.Equal("main", Scalar(infra, "module"));
    }

    [Fact]
    public void PostprovisionHookRunsScriptsThatPrintDnsRecordsAndSdkUrlsFromRealOutputs()
    {
        var hook = Map(Map(Root(), "hooks"), "postprovision");
        var outputs = TemplateTests.Outputs(infra.Template);
        foreach (var (platform, shell) in new[] { ("posix", "sh"), ("windows", "pwsh") })
        {
            var entry = Map(hook, platform);
            Assert.Equal(shell, Scalar(entry, "shell"));
            var script = Scalar(entry, "run");
            var path = Path.Combine(Repo.Root, script);
            Assert.True(File.Exists(path), $"{platform} hook script {script} is missing");
            var text = File.ReadAllText(path);

            // Every upper-case name the script reads must be a main.bicep output.
            var read = Regex.Matches(text, @"(?:value|Get-AzdValue)\s+'?([A-Z][A-Z0-9_]+)'?")
                .Select(m => m.Groups[1].Value)
                .Distinct()
                .ToList();
            Assert.NotEmpty(read);
            Assert.All(read, name => Assert.True(outputs.Contains(name), $"{script} reads {name}, which main.bicep does not output"));

            foreach (var needed in new[]
            {
                "PROXY_BASE_URL", "CUSTOM_DOMAIN_CNAME_TARGET", "CUSTOM_DOMAIN_VALIDATION_RECORD_NAME", "CUSTOM_DOMAIN_VALIDATION_RECORD_VALUE", "FUNCTION_APP_DEFAULT_HOSTNAME",
                "PROXY_TRACK_URL", "PROXY_CONFIG_URL", "PROXY_HTTPAPI_URL", "PROXY_BATCH_URL", "PROXY_LEGACY_URL",
            })
            {
                Assert.Contains(needed, read);
            }

            foreach (var word in new[] { "trackServerUrl", "configServerUrl", "serverUrl", "setServerUrl:", "useBatch", "/healthz", "CNAME", "TXT" })
            {
                Assert.Contains(word, text, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>The posix hook, run as azd runs it, prints each SDK's option with the URL of the path it uses.</summary>
    [Fact]
    public void PosixHookPrintsTheSdkSnippetsWithTheConfiguredPaths()
    {
        var start = new System.Diagnostics.ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(Repo.Infra, "hooks", "postprovision.sh"));
        // No azd here: the script must not fall back to it.
        start.Environment["PATH"] = "/usr/bin:/bin";
        foreach (var (name, value) in new Dictionary<string, string>
        {
            ["PROXY_BASE_URL"] = "https://replay.example.com",
            ["PROXY_TRACK_URL"] = "https://replay.example.com/r/t",
            ["PROXY_CONFIG_URL"] = "https://replay.example.com/r/c",
            ["PROXY_HTTPAPI_URL"] = "https://replay.example.com/r/e",
            ["PROXY_BATCH_URL"] = "https://replay.example.com/r/b",
            ["PROXY_LEGACY_URL"] = "https://replay.example.com/r/l",
        })
        {
            start.Environment[name] = value;
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("trackServerUrl:  'https://replay.example.com/r/t'", output, StringComparison.Ordinal);
        Assert.Contains("configServerUrl: 'https://replay.example.com/r/c'", output, StringComparison.Ordinal);
        Assert.Contains("serverUrl:       'https://replay.example.com/r/e'", output, StringComparison.Ordinal);
        Assert.Contains("remoteConfig:    { serverUrl: 'https://replay.example.com/r/c' }", output, StringComparison.Ordinal);
        Assert.Contains("serverUrl:       \"https://replay.example.com/r/e\"   (with useBatch: \"https://replay.example.com/r/b\")", output, StringComparison.Ordinal);
        Assert.Contains("setServerUrl:@\"https://replay.example.com/r/l\"", output, StringComparison.Ordinal);
    }
}
