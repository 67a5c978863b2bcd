using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ReplayProxy;

namespace Microsoft.AspNetCore.Builder;

public static class ReplayProxyEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps every route of the proxy, any method (the handler answers 405 with <c>Allow</c>), and a fallback that
    /// answers 404 as problem details.
    /// </summary>
    public static IEndpointRouteBuilder MapReplayProxy(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // Resolved on first use, so that invalid settings surface from host start-up (ValidateOnStart), not from here.
        var services = endpoints.ServiceProvider;
        ReplayProxyHandler? resolved = null;
        ReplayProxyHandler Handler() => resolved ??= services.GetRequiredService<ReplayProxyHandler>();
        foreach (var route in ReplayRoute.All)
        {
            foreach (var template in route.Templates)
            {
                endpoints.Map("/" + template.Replace("{*", "{**", StringComparison.Ordinal), context => Handler().HandleAsync(context, route))
                    .WithDisplayName("ReplayProxy " + route.Name);
            }
        }

        endpoints.MapFallback("{**path}", ReplayProxyHandler.NotFoundAsync);
        return endpoints;
    }
}
