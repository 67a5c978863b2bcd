using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ReplayProxy;
using Yarp.ReverseProxy.Forwarder;
using ReplayProxy.ConfigFallback;
using ReplayProxy.Diagnostics;
using ReplayProxy.Spool;

namespace Microsoft.Extensions.DependencyInjection;

public static class ReplayProxyServiceCollectionExtensions
{
    /// <summary>
    /// Registers the proxy with options bound from the <c>ReplayProxy</c> section of <paramref name="configuration"/>
    /// (or from <paramref name="configuration"/> itself when it is that section), validated when the host starts.
    /// </summary>
    public static IServiceCollection AddReplayProxy(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        var section = configuration is IConfigurationSection { Key: ReplayProxyOptions.SectionName } own
            ? own
            : configuration.GetSection(ReplayProxyOptions.SectionName);

        services.AddOptions<ReplayProxyOptions>()
            .Bind(section)
            .Configure(options => ListedUpstreamHeader.Read(section.GetSection(nameof(ReplayProxyOptions.UpstreamHeaders)), options))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReplayProxyOptions>, ReplayProxyOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReplayProxyOptions>>(new UnknownSettingsValidator(section)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReplayProxyOptions>, ConfigFallbackOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReplayProxyOptions>, SpoolOptionsValidator>());
        services.AddHostedService<ApiKeyListWarning>();
        services.AddMetrics();
        // Request paths and queries hold API keys; keep the framework's and YARP's logging from writing them.
        services.AddLogging(logging => logging.AddReplayProxyLogRules());
        services.AddHttpForwarder();
        services.TryAddSingleton<ReplayProxySettings>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new UpstreamCertificateValidation());
        services.TryAddSingleton<UpstreamClient>();
        services.TryAddSingleton<ConfigForwarder>();
        services.TryAddSingleton<UpstreamDiagnostics>();
        services.TryAddSingleton<ReplayProxyTelemetry>();
        services.TryAddSingleton<AccessGate>();
        services.TryAddSingleton<OutageSpool>();
        services.AddHostedService<SpoolDelivery>();
        services.TryAddSingleton(sp => new ReplayProxyHandler(
            sp.GetRequiredService<AccessGate>(),
            sp.GetRequiredService<IHttpForwarder>(),
            sp.GetRequiredService<UpstreamClient>(),
            sp.GetRequiredService<ReplayProxySettings>(),
            sp.GetRequiredService<ReplayProxyTelemetry>(),
            sp.GetRequiredService<ILogger<ReplayProxyHandler>>(),
            sp.GetRequiredService<ConfigForwarder>(),
            sp.GetRequiredService<UpstreamDiagnostics>(),
            sp.GetRequiredService<OutageSpool>()));
        return services;
    }
}
