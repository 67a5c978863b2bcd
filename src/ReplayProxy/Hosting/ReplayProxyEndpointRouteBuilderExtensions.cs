using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ReplayProxy;

namespace Microsoft.AspNetCore.Builder;

public static class ReplayProxyEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps every route of the proxy, any method (the handler answers 405 with <c>Allow</c>). Paths outside the route
    /// table are the host's: <see cref="ReplayProxyHandler.NotFoundAsync"/> answers them as the proxy would.
    /// </summary>
    /// <returns>A builder for conventions that apply to all of the proxy's endpoints.</returns>
    public static IEndpointConventionBuilder MapReplayProxy(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // Resolved on first use, so that invalid settings surface from host start-up (ValidateOnStart), not from here.
        var services = endpoints.ServiceProvider;
        ReplayProxyHandler? resolved = null;
        ReplayProxyHandler Handler() => resolved ??= services.GetRequiredService<ReplayProxyHandler>();
        var proxy = endpoints.MapGroup(string.Empty);
        foreach (var route in ReplayRoute.All)
        {
            foreach (var template in route.Templates)
            {
                proxy.Map("/" + template.Replace("{*", "{**", StringComparison.Ordinal), context => Handler().HandleAsync(context, route))
                    .WithDisplayName("ReplayProxy " + route.Name);
            }
        }

        return proxy;
    }
}
