#if FUNCTIONS_WORKER
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ReplayProxy.Functions.Tests;

/// <summary>The built Functions app: its generated metadata and its worker service provider (no Functions host).</summary>
public class WorkerTests
{
    /// <summary>A file in the Functions app's own build output (same configuration as this test build).</summary>
    private static string OutputFile(string name)
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!.Name;
        return Repo.PathOf("src", "ReplayProxy.Functions", "bin", configuration, framework.Name, name);
    }

    [Fact]
    public void Generated_metadata_matches_the_core_route_table()
    {
        var metadata = OutputFile("functions.metadata");
        Assert.True(File.Exists(metadata), "functions.metadata was not generated next to the app.");
        TriggerTable.AssertMatchesRouteTable(TriggerTable.FromMetadata(File.ReadAllText(metadata)));
    }

    [Fact]
    public void Host_json_is_in_the_app_output()
    {
        Assert.True(File.Exists(OutputFile("host.json")));
        Assert.Equal(File.ReadAllText(Repo.PathOf("host.json")), File.ReadAllText(OutputFile("host.json")));
    }

    [Fact]
    public void Test_build_has_no_exporter()
    {
        Assert.False(ReplayFunctionsApp.AzureMonitorExportCompiled);
    }

    [Fact]
    public void Worker_service_provider_resolves_the_functions_and_the_core()
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReplayProxy:Region"] = "EU",
            ["ReplayProxy:MaxRequestBodyBytes"] = "41943040",
        });
        ReplayFunctionsApp.Configure(builder);
        using var host = builder.Build();

        var handler = host.Services.GetRequiredService<ReplayProxyHandler>();
        Assert.Same(handler, host.Services.GetRequiredService<ReplayProxyHandler>());
        Assert.NotNull(ActivatorUtilities.CreateInstance<ReplayFunctions>(host.Services));

        var kestrel = host.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;
        Assert.Equal(41943040, kestrel.Limits.MaxRequestBodySize);

        var filters = host.Services.GetRequiredService<IOptions<LoggerFilterOptions>>().Value;
        Assert.Contains(filters.Rules, r => r.CategoryName == ReplayProxyLogging.HostingDiagnosticsCategory && r.LogLevel == LogLevel.None);
    }

    [Fact]
    public void Invalid_settings_fail_at_start_naming_the_setting()
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ReplayProxy:Region"] = "Mars" });
        ReplayFunctionsApp.Configure(builder);
        using var host = builder.Build();
        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<ReplayProxyOptions>>().Value);
        Assert.Contains("ReplayProxy:Region", error.Message, StringComparison.Ordinal);
    }
}
#endif
