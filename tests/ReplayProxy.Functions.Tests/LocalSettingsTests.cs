using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ReplayProxy.Functions.Tests;

public class LocalSettingsTests
{
    private static JsonElement Example() =>
        JsonDocument.Parse(File.ReadAllText(Repo.PathOf("local.settings.json.example"))).RootElement;

    [Fact]
    public void Runs_the_isolated_worker()
    {
        Assert.Equal("dotnet-isolated", Example().GetProperty("Values").GetProperty("FUNCTIONS_WORKER_RUNTIME").GetString());
    }

    [Fact]
    public void Lists_every_proxy_setting_and_adds_no_upstream_header()
    {
        var values = Example().GetProperty("Values");
        var names = values.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var prefix = ReplayProxyOptions.SectionName + "__";
        foreach (var property in typeof(ReplayProxyOptions).GetProperties())
        {
            if (property.Name == nameof(ReplayProxyOptions.Upstreams))
            {
                foreach (var upstream in typeof(UpstreamOverrides).GetProperties())
                {
                    Assert.Contains($"{prefix}Upstreams__{upstream.Name}", names);
                }
            }
            else if (property.Name == nameof(ReplayProxyOptions.Paths))
            {
                foreach (var path in typeof(ReplayPathOptions).GetProperties())
                {
                    Assert.Contains($"{prefix}Paths__{path.Name}", names);
                }
            }
            else if (property.Name == nameof(ReplayProxyOptions.Spool))
            {
                foreach (var spool in typeof(SpoolOptions).GetProperties())
                {
                    Assert.Contains($"{prefix}Spool__{spool.Name}", names);
                }
            }
            else if (property.Name == nameof(ReplayProxyOptions.UpstreamHeaders))
            {
                // A local run sends Amplitude what the SDK sent, nothing more (README, Settings, shows how to add one).
                Assert.DoesNotContain(names, n => n.StartsWith($"{prefix}UpstreamHeaders__", StringComparison.Ordinal));
            }
            else
            {
                Assert.Contains(prefix + property.Name, names);
            }
        }
    }

    [Fact]
    public void The_hosts_home_page_is_off_so_that_the_root_is_the_form_route()
    {
        Assert.Equal("true", Example().GetProperty("Values").GetProperty("AzureWebJobsDisableHomepage").GetString());
    }

    [Fact]
    public void Lets_a_local_page_call_func_start_with_credentials()
    {
        var host = Example().GetProperty("Host");
        Assert.False(string.IsNullOrWhiteSpace(host.GetProperty("CORS").GetString()));
        Assert.DoesNotContain("*", host.GetProperty("CORS").GetString(), StringComparison.Ordinal);
        Assert.True(host.GetProperty("CORSCredentials").GetBoolean());
    }

    [Fact]
    public void The_example_settings_pass_the_proxys_validation()
    {
        var values = Example().GetProperty("Values").EnumerateObject()
            .Where(p => p.Name.StartsWith(ReplayProxyOptions.SectionName + "__", StringComparison.Ordinal))
            .ToDictionary(p => p.Name.Replace("__", ":", StringComparison.Ordinal), p => (string?)p.Value.GetString());
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        using var services = new ServiceCollection().AddLogging().AddReplayProxy(configuration).BuildServiceProvider();
        var options = services.GetRequiredService<IOptions<ReplayProxyOptions>>().Value;
        Assert.Equal(ReplayProxyOptions.DefaultMaxRequestBodyBytes, options.MaxRequestBodyBytes);
    }

    [Fact]
    public void Real_local_settings_are_not_committed()
    {
        var ignore = File.ReadAllLines(Repo.PathOf(".gitignore"));
        Assert.Contains("local.settings.json", ignore);
    }
}
