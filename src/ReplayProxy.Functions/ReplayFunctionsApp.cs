using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ReplayProxy.Functions;

/// <summary>Everything <c>Program.cs</c> sets up, in one place the tests can run without a Functions host.</summary>
public static partial class ReplayFunctionsApp
{
    /// <summary>The Functions host's own request body limit (its Kestrel default, 100 MB).</summary>
    public const long HostMaxRequestBodyBytes = 104_857_600;

    private const string AspNetCoreCategory = "Microsoft.AspNetCore";

    public static FunctionsApplicationBuilder Configure(FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // ASP.NET Core integration: the functions get the worker Kestrel's HttpContext and write its response directly.
        builder.ConfigureFunctionsWebApplication();
        // The spool's store on Functions: Blob Storage (ReplayProxy:Spool:BlobServiceUri), shared by all instances.
        builder.Services.AddSingleton<ReplayProxy.Spool.IBlobSpoolStoreFactory, Spool.BlobSpoolStoreFactory>();
        builder.Services.AddReplayProxy(builder.Configuration);

        // At Information Microsoft.AspNetCore.Hosting.Diagnostics logs every request URL, query (the beacon's api_key)
        // included, and at any level it opens a log scope with the request path (/config/<api key>) that every line
        // of the request carries. AddReplayProxy already applies these rules (category off, route matcher's
        // path-quoting Debug messages held back); they are repeated here so the worker's logging setup states them.
        builder.Logging.AddReplayProxyLogRules();
        // The worker logs at Information by default, where ASP.NET Core's endpoint middleware writes "Executing endpoint
        // 'proxy'" and "Executed endpoint" for every request: two log messages over gRPC to the host and, with the
        // export on, two Application Insights items per request, billed by the GB. Warning, as the standalone host's
        // appsettings.json has it (bench/NOTES.md: about 30 µs less CPU per upload in the worker and as much in the host).
        builder.Logging.AddFilter(AspNetCoreCategory, LogLevel.Warning);

        // The worker's Kestrel refuses bodies over 30,000,000 bytes on its own, which the host turns into a 500 with
        // no body the SDK understands. The proxy enforces MaxRequestBodyBytes itself (413 by Content-Length, before
        // reading); the worker's Kestrel must then be able to drain the unread body, or it drops the connection while
        // the host is still sending and the host answers 502. So its limit is the host's own (100 MB), or the
        // proxy's when that is larger: only the host can reach the worker, and the host enforces its limit first.
        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<ReplayProxyOptions>>((kestrel, proxy) =>
            {
                kestrel.Limits.MaxRequestBodySize = Math.Max(proxy.Value.MaxRequestBodyBytes, HostMaxRequestBodyBytes);
                kestrel.AddServerHeader = false;
            });

        AddAzureMonitorExport(builder);
        return builder;
    }
}
