using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace ReplayProxy.Functions;

/// <summary>
/// One HTTP trigger per row of the core's route table (<see cref="ReplayRoute.All"/>). Each hands the request to
/// <see cref="ReplayProxyHandler"/>, which writes straight to <see cref="HttpContext.Response"/>; the functions return
/// nothing, so the worker's ASP.NET Core integration leaves that response as written. Function names are the core's
/// route names, so the portal, the host's traces and the core's <c>replay_proxy.route</c> tag agree (a region-prefixed
/// function, <c>eu-track</c>, reports the route <c>track</c> with <c>replay_proxy.region=eu</c>). Methods repeat the
/// route table (attributes need constants); a test checks the generated metadata against it.
/// </summary>
public sealed class ReplayFunctions(ReplayProxyHandler handler)
{
    /// <summary>Session Replay uploads and page-exit beacons.</summary>
    [Function("track")]
    public Task Track(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = ReplayRouteTemplates.Track)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.Track);

    /// <summary>Remote config: <c>/config</c> and <c>/config/&lt;api key&gt;</c> (the catch-all also matches <c>/config</c>).</summary>
    [Function("config")]
    public Task Config(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "options", Route = ReplayRouteTemplates.ConfigWithKey)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.Config);

    /// <summary>Analytics events (<c>POST /2/httpapi</c>).</summary>
    [Function("httpapi")]
    public Task HttpApi(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = ReplayRouteTemplates.HttpApi)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.HttpApi);

    /// <summary>Analytics events in batch mode (<c>POST /batch</c>).</summary>
    [Function("batch")]
    public Task Batch(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = ReplayRouteTemplates.Batch)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.Batch);

    /// <summary>Liveness for probes and Front Door health checks; never calls Amplitude.</summary>
    [Function("health")]
    public Task Health(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ReplayRouteTemplates.Health)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.Health);

    /// <summary>Self-diagnosis of the upstream hosts; checks are shared and reused, so it cannot flood Amplitude.</summary>
    [Function("upstreams")]
    public Task Upstreams(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ReplayRouteTemplates.UpstreamHealth)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.UpstreamHealth);

    /// <summary>The same proxied routes under <c>/eu/</c> and <c>/us/</c>: the prefix pins the Amplitude region and is
    /// not forwarded. Health has no prefixed form.</summary>
    [Function("eu-track")]
    public Task EuTrack(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = ReplayRouteTemplates.EuTrack)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.EuTrack);

    [Function("eu-config")]
    public Task EuConfig(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "options", Route = ReplayRouteTemplates.EuConfigWithKey)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.EuConfig);

    [Function("eu-httpapi")]
    public Task EuHttpApi(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = ReplayRouteTemplates.EuHttpApi)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.EuHttpApi);

    [Function("eu-batch")]
    public Task EuBatch(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = ReplayRouteTemplates.EuBatch)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.EuBatch);

    [Function("us-track")]
    public Task UsTrack(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = ReplayRouteTemplates.UsTrack)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.UsTrack);

    [Function("us-config")]
    public Task UsConfig(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "options", Route = ReplayRouteTemplates.UsConfigWithKey)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.UsConfig);

    [Function("us-httpapi")]
    public Task UsHttpApi(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = ReplayRouteTemplates.UsHttpApi)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.UsHttpApi);

    [Function("us-batch")]
    public Task UsBatch(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = ReplayRouteTemplates.UsBatch)] HttpRequest request) =>
        handler.HandleAsync(Context(request), ReplayRoute.UsBatch);

    private static HttpContext Context(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.HttpContext;
    }
}
