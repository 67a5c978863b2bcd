using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ReplayProxy;

namespace Microsoft.AspNetCore.Builder;

public static class ReplayProxyEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps one catch-all endpoint, any method, to the proxy: its route table (<c>ReplayProxy:Paths</c>) decides, and
    /// answers 404 outside it and 405 with <c>Allow</c> for another method. The endpoint has the lowest routing
    /// priority, so an app's own endpoints still win.
    /// </summary>
    /// <returns>A builder for conventions that apply to the proxy's endpoint.</returns>
    public static IEndpointConventionBuilder MapReplayProxy(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // Resolved on first use, so that invalid settings surface from host start-up (ValidateOnStart), not from here.
        var services = endpoints.ServiceProvider;
        ReplayProxyHandler? resolved = null;
        return endpoints.Map("/{**path}", context => (resolved ??= services.GetRequiredService<ReplayProxyHandler>()).HandleAsync(context))
            .WithDisplayName("ReplayProxy");
    }
}
