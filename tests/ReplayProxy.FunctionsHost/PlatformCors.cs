using System.Text.Json;
using Microsoft.AspNetCore.Cors.Infrastructure;

namespace ReplayProxy.FunctionsHost;

/// <summary>
/// The platform CORS of Linux Consumption and Flex Consumption: the host builds one ASP.NET Core CORS policy from
/// <c>CORS_ALLOWED_ORIGINS</c> (a JSON array, set from <c>siteConfig.cors.allowedOrigins</c>) and
/// <c>CORS_SUPPORT_CREDENTIALS</c> (from <c>supportCredentials</c>), allowing any header and any method, and runs
/// ASP.NET Core's <see cref="CorsMiddleware"/> with it ahead of function routing (host 4.x
/// <c>HostCorsOptionsSetup</c>, <c>CorsOptionsSetup</c>, <c>CorsMiddlewareFactory</c>, <c>JobHostCorsMiddleware</c>).
/// So a preflight is answered 204 by the host and never reaches the worker, and on every other response the host
/// sets <c>Access-Control-Allow-Origin</c> (and <c>-Credentials</c>) over whatever the function wrote.
/// </summary>
internal static class PlatformCors
{
    public const string AllowedOriginsVariable = "CORS_ALLOWED_ORIGINS";
    public const string SupportCredentialsVariable = "CORS_SUPPORT_CREDENTIALS";

    /// <summary>
    /// The policy, or null when <c>CORS_ALLOWED_ORIGINS</c> is not set. On Flex the host runs the middleware even
    /// then (with no origins, so every preflight gets a bare 204); absent here stands for Functions on a plan without
    /// platform CORS (Core Tools, App Service plans), where the app answers its own preflights, as most tests expect.
    /// </summary>
    public static CorsPolicy? From(IConfiguration configuration)
    {
        var origins = configuration[AllowedOriginsVariable];
        if (origins is null)
        {
            return null;
        }

        string[] allowed;
        try
        {
            // The host reads it with Json.NET into IEnumerable<string>; blank means no origins.
            allowed = string.IsNullOrWhiteSpace(origins) ? [] : JsonSerializer.Deserialize<string[]>(origins) ?? [];
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"{AllowedOriginsVariable} must be a JSON array of origins: {ex.Message}", ex);
        }

        // As the host's GetValue<bool?>: unset is false, anything but a boolean fails the start.
        var credentials = configuration[SupportCredentialsVariable];
        var supportCredentials = false;
        if (!string.IsNullOrEmpty(credentials) && !bool.TryParse(credentials, out supportCredentials))
        {
            throw new InvalidOperationException($"{SupportCredentialsVariable} must be true or false, not '{credentials}'.");
        }

        var policy = new CorsPolicyBuilder(allowed).AllowAnyHeader().AllowAnyMethod();
        if (supportCredentials)
        {
            policy.AllowCredentials();
        }

        return policy.Build();
    }
}
