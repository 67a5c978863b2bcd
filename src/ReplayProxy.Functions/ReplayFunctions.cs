using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace ReplayProxy.Functions;

/// <summary>
/// One HTTP trigger for every path and method; the core's route table (<c>ReplayProxy:Paths</c>, which a trigger
/// attribute cannot read) decides, so both hosts answer alike, 404 and 405 included. The handler writes straight to
/// <see cref="HttpContext.Response"/>; the function returns nothing, so the worker's ASP.NET Core integration leaves
/// that response as written. The core's <c>replay_proxy.route</c> tag names the route in telemetry.
/// </summary>
public sealed class ReplayFunctions(ReplayProxyHandler handler)
{
    [Function("proxy")]
    public Task Proxy(
        [HttpTrigger(AuthorizationLevel.Anonymous, Route = ReplayRouteTable.CatchAllTemplate)] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return handler.HandleAsync(request.HttpContext);
    }
}
