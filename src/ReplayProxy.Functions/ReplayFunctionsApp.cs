using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ReplayProxy.Functions;

/// <summary>Everything <c>Program.cs</c> sets up, in one place the tests can run without a Functions host.</summary>
public static partial class ReplayFunctionsApp
{
    public static FunctionsApplicationBuilder Configure(FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // ASP.NET Core integration: the functions get the worker Kestrel's HttpContext and write its response directly.
        builder.ConfigureFunctionsWebApplication();
        builder.Services.AddReplayProxy(builder.Configuration);

        // At Information Microsoft.AspNetCore.Hosting.Diagnostics logs every request URL, query (the beacon's api_key)
        // included, and at any level it opens a log scope with the request path (/config/<api key>) that every line
        // of the request carries. AddReplayProxy already applies these rules (category off, route matcher's
        // path-quoting Debug messages held back); they are repeated here so the worker's logging setup states them.
        builder.Logging.AddReplayProxyLogRules();

        // The worker's Kestrel refuses bodies over 30,000,000 bytes on its own, which the host turns into a 500 with
        // no body the SDK understands. Its limit follows the proxy's, so the proxy's own 413 is what clients see.
        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<ReplayProxyOptions>>((kestrel, proxy) =>
            {
                kestrel.Limits.MaxRequestBodySize = proxy.Value.MaxRequestBodyBytes;
                kestrel.AddServerHeader = false;
            });

        AddAzureMonitorExport(builder);
        return builder;
    }
}
