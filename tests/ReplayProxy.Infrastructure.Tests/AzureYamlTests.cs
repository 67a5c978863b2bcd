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

            foreach (var needed in new[] { "PROXY_BASE_URL", "CUSTOM_DOMAIN_CNAME_TARGET", "CUSTOM_DOMAIN_VALIDATION_RECORD_NAME", "CUSTOM_DOMAIN_VALIDATION_RECORD_VALUE", "FUNCTION_APP_DEFAULT_HOSTNAME" })
            {
                Assert.Contains(needed, read);
            }

            foreach (var path2 in new[] { "/sessions/v2/track", "/config", "/2/httpapi", "/healthz", "CNAME", "TXT" })
            {
                Assert.Contains(path2, text, StringComparison.Ordinal);
            }
        }
    }
}
