using System.Globalization;
using System.Net;

namespace ReplayProxy.Testing;

/// <summary>
/// The request headers the App Service front end (which also fronts Functions apps) adds before the Functions host
/// sees a request, with fixed plausible values. The Functions test host adds them to every request it forwards; the
/// contract suite sends them from the client to the standalone host. None may reach Amplitude.
/// </summary>
/// <remarks>
/// Sources: the server-variable list in MicrosoftDocs/azure-docs <c>articles/app-service/reference-app-settings.md</c>
/// (<c>X-WAWS-Unencoded-URL, CLIENT-IP, X-ARR-LOG-ID, DISGUISED-HOST, X-SITE-DEPLOYMENT-ID, WAS-DEFAULT-HOSTNAME,
/// X-Original-URL, X-Forwarded-For, X-ARR-SSL, X-Forwarded-Proto, X-AppService-Proto, X-Forwarded-TlsVersion</c>, and
/// <c>X-MS-*</c> ones), and request dumps published from App Service and Functions apps, which also show
/// <c>X-Client-IP</c>, <c>X-Client-Port</c> and <c>Max-Forwards: 10</c>. The Functions host itself adds
/// <c>x-ms-invocation-id</c> (azure-functions-host <c>DefaultHttpProxyService</c>). No source separates what Flex
/// Consumption's front end sends from the classic plans'; this is the union. <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> are left out here: the test host's forward sets them as the real host's does.
/// </remarks>
public static class AppServiceFrontEnd
{
    public const string SiteName = "replay-proxy-test";

    /// <summary>The headers for one request from <paramref name="client"/> to <paramref name="pathAndQuery"/>.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Headers(IPEndPoint client, string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(client);
        var ip = client.Address.IsIPv4MappedToIPv6 ? client.Address.MapToIPv4() : client.Address;
        var port = client.Port.ToString(CultureInfo.InvariantCulture);
        var host = SiteName + ".azurewebsites.net";
        return
        [
            new("Max-Forwards", "10"),
            new("X-WAWS-Unencoded-URL", pathAndQuery),
            new("CLIENT-IP", new IPEndPoint(ip, client.Port).ToString()),
            new("X-ARR-LOG-ID", "3f1d5c9e-2b7a-4c1e-9d3f-6a8b0c2e4f61"),
            new("DISGUISED-HOST", host),
            new("X-SITE-DEPLOYMENT-ID", SiteName),
            new("WAS-DEFAULT-HOSTNAME", host),
            new("X-Original-URL", pathAndQuery),
            new("X-ARR-SSL", "2048|256|CN=Microsoft Azure RSA TLS Issuing CA 03, O=Microsoft Corporation, C=US|CN=*.azurewebsites.net, O=Microsoft Corporation, L=Redmond, S=WA, C=US"),
            new("X-AppService-Proto", "https"),
            new("X-Forwarded-TlsVersion", "1.3"),
            new("X-Client-IP", ip.ToString()),
            new("X-Client-Port", port),
            new("X-MS-Client-Principal-Name", "someone@example.com"),
            new("X-Original-Host", host),
        ];
    }
}
