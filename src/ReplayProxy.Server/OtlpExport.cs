using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ReplayProxy;

namespace ReplayProxy.Server;

/// <summary>
/// Exports the proxy's <c>ReplayProxy</c> meter and activity source over OTLP, configured by the standard
/// <c>OTEL_EXPORTER_OTLP_*</c> variables (endpoint, protocol, headers, timeout) and <c>OTEL_SERVICE_NAME</c>. Off unless
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set: without it nothing is registered and nothing is sent anywhere.
/// </summary>
internal static class OtlpExport
{
    public const string EndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    private const string ServiceNameSetting = "OTEL_SERVICE_NAME";
    private const string DefaultServiceName = "ReplayProxy.Server";

    public static void AddOtlpExportWhenConfigured(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration[EndpointSetting]))
        {
            return;
        }

        // Only the proxy's own sources: framework instrumentation (ASP.NET Core, HttpClient) would tag spans with URLs,
        // and those carry /config/<key> and api_key.
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (string.IsNullOrWhiteSpace(builder.Configuration[ServiceNameSetting]))
                {
                    resource.AddService(DefaultServiceName);
                }
            })
            .WithMetrics(metrics => metrics.AddMeter(ReplayProxyTelemetry.MeterName).AddOtlpExporter())
            .WithTracing(tracing => tracing.AddSource(ReplayProxyTelemetry.ActivitySourceName).AddOtlpExporter());
    }
}
