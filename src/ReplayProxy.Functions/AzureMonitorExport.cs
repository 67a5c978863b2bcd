using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace ReplayProxy.Functions;

public static partial class ReplayFunctionsApp
{
    private const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    private const string AuthenticationStringSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>
    /// Sends the worker's traces, metrics and logs to Application Insights with OpenTelemetry (host.json sets
    /// <c>telemetryMode</c> to <c>OpenTelemetry</c>, so the host does the same for its own). Without a connection
    /// string (a local <c>func start</c>) nothing is exported.
    /// </summary>
    private static void AddAzureMonitorExport(FunctionsApplicationBuilder builder)
    {
        var connectionString = builder.Configuration[ConnectionStringSetting];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return;
        }

        var credential = EntraCredential(builder.Configuration[AuthenticationStringSetting]);
        var otel = builder.Services.AddOpenTelemetry();
        // Worker resource attributes, and tells the host the worker exports its own telemetry (so it is not sent twice);
        // worker spans join the host's trace through the invocation's trace context.
        otel.UseFunctionsWorkerDefaults();
        otel.WithTracing(tracing => tracing.AddSource(ReplayProxyTelemetry.ActivitySourceName));
        otel.WithMetrics(metrics => metrics.AddMeter(ReplayProxyTelemetry.MeterName));
        otel.UseAzureMonitorExporter(exporter =>
        {
            exporter.ConnectionString = connectionString;
            if (credential is not null)
            {
                // Application Insights has local (key) authentication disabled: ingestion needs an Entra token.
                exporter.Credential = credential;
            }
        });
    }

    /// <summary>
    /// The credential <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> asks for, the setting the Functions host reads
    /// for the same purpose: <c>Authorization=AAD</c> (system-assigned identity) or
    /// <c>ClientId=&lt;id&gt;;Authorization=AAD</c> (user-assigned identity). Null when it does not ask for Entra.
    /// </summary>
    internal static TokenCredential? EntraCredential(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString))
        {
            return null;
        }

        string? authorization = null;
        string? clientId = null;
        foreach (var part in authenticationString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var name = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            {
                authorization = value;
            }
            else if (name.Equals("ClientId", StringComparison.OrdinalIgnoreCase))
            {
                clientId = value;
            }
        }

        if (!string.Equals(authorization, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return string.IsNullOrEmpty(clientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
    }
}
