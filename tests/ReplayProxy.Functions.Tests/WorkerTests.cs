using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace ReplayProxy.Functions.Tests;

/// <summary>The built Functions app: its generated metadata and its worker service provider (no Functions host).</summary>
public class WorkerTests
{
    [Fact]
    public void Generated_metadata_has_one_anonymous_catch_all_trigger_for_every_method()
    {
        var metadata = FunctionsMetadata.OutputFile("functions.metadata");
        Assert.True(File.Exists(metadata), "functions.metadata was not generated next to the app.");

        // Paths are settings (ReplayProxy:Paths), which a trigger attribute cannot read: the core's table decides
        // every path and method, so both hosts give the same 404 and 405.
        var trigger = Assert.Single(FunctionsMetadata.Triggers(File.ReadAllText(metadata)));
        Assert.Equal(ReplayRouteTable.CatchAllTemplate, trigger.Route);
        Assert.Equal("proxy", trigger.Name);
        Assert.Equal("anonymous", trigger.AuthLevel, ignoreCase: true);
        Assert.Empty(trigger.Methods);
    }

    [Fact]
    public void Host_json_is_in_the_app_output()
    {
        Assert.Equal(File.ReadAllText(Repo.PathOf("host.json")), File.ReadAllText(FunctionsMetadata.OutputFile("host.json")));
    }

    [Theory]
    [InlineData("41943040", 104857600)]
    [InlineData("209715200", 209715200)]
    public void Worker_kestrel_body_limit_is_the_hosts_or_the_proxys_and_framework_url_logging_is_off(string proxyLimit, long kestrelLimit)
    {
        using var host = Build(new() { ["ReplayProxy:MaxRequestBodyBytes"] = proxyLimit });

        // Above the worker Kestrel's own 30,000,000-byte default and never below the proxy's limit.
        var kestrel = host.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;
        Assert.Equal(kestrelLimit, kestrel.Limits.MaxRequestBodySize);
        Assert.False(kestrel.AddServerHeader);

        var filters = host.Services.GetRequiredService<IOptions<LoggerFilterOptions>>().Value;
        Assert.Contains(filters.Rules, r => r.CategoryName == ReplayProxyLogging.HostingDiagnosticsCategory && r.LogLevel == LogLevel.None);
    }

    [Fact]
    public void Without_a_connection_string_nothing_is_exported()
    {
        using var host = Build([]);
        Assert.Null(host.Services.GetService<TracerProvider>());
    }

    [Fact]
    public void With_a_connection_string_the_proxy_source_is_exported()
    {
        using var host = Build(new()
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/",
        });
        Assert.NotNull(host.Services.GetService<TracerProvider>());
        using var source = new System.Diagnostics.ActivitySource(ReplayProxyTelemetry.ActivitySourceName);
        Assert.True(source.HasListeners());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Authorization=Key")]
    public void No_Entra_authentication_means_no_credential(string? authenticationString)
    {
        Assert.Null(ReplayFunctionsApp.EntraCredential(authenticationString));
    }

    [Fact]
    public void Invalid_settings_fail_at_start_naming_the_setting()
    {
        using var host = Build(new() { ["ReplayProxy:Region"] = "Mars" });
        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<ReplayProxyOptions>>().Value);
        Assert.Contains("ReplayProxy:Region", error.Message, StringComparison.Ordinal);
    }

    private static Microsoft.Extensions.Hosting.IHost Build(Dictionary<string, string?> settings)
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(settings);
        ReplayFunctionsApp.Configure(builder);
        return builder.Build();
    }
}
