using System.Globalization;
using Azure.Core;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy.Functions.Tests;

/// <summary>
/// The Azure Monitor credential <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> selects, observed where it matters:
/// the token request it makes to the platform's identity endpoint. On App Service and Functions (Flex included) that
/// endpoint is <c>IDENTITY_ENDPOINT</c> with the secret <c>IDENTITY_HEADER</c>; here both point at a fake on loopback.
/// In the worker-path collection because it sets process environment variables the worker processes would inherit.
/// </summary>
[Collection(WorkerPathCollection.Name)]
public sealed class EntraCredentialTests
{
    // One id per case: the identity library caches tokens per identity for the whole process.
    private const string ClientId = "11111111-2222-3333-4444-555555555555";
    private const string OtherClientId = "66666666-7777-8888-9999-000000000000";
    private const string IdentityHeader = "identity-header-secret";

    [Theory]
    [InlineData("ClientId=" + ClientId + ";Authorization=AAD", ClientId)]
    [InlineData(" clientid = " + OtherClientId + " ; authorization = aad ", OtherClientId)]
    [InlineData("Authorization=AAD", null)]
    public async Task Entra_authentication_string_asks_for_a_token_of_the_identity_it_names(string authenticationString, string? expectedClientId)
    {
        await using var identity = await FakeAmplitude.StartAsync();
        identity.Respond = static async (context, _) =>
        {
            var expires = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"access_token":"test-token","expires_on":"{{expires}}","resource":"https://monitor.azure.com/","token_type":"Bearer"}""");
        };
        var before = (Endpoint: Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT"), Header: Environment.GetEnvironmentVariable("IDENTITY_HEADER"));
        Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", new Uri(identity.BaseAddress, "/msi/token").ToString());
        Environment.SetEnvironmentVariable("IDENTITY_HEADER", IdentityHeader);
        try
        {
            var credential = ReplayFunctionsApp.EntraCredential(authenticationString);
            Assert.NotNull(credential);

            var token = await credential.GetTokenAsync(new TokenRequestContext(["https://monitor.azure.com//.default"]), CancellationToken.None);

            Assert.Equal("test-token", token.Token);
            var request = Assert.Single(identity.Received);
            Assert.Equal("/msi/token", request.Path);
            Assert.Equal(IdentityHeader, request.Header("X-IDENTITY-HEADER"));
            var query = QueryHelpers(request.Query);
            Assert.Equal(expectedClientId, query.TryGetValue("client_id", out var id) ? id : null);
            Assert.False(query.ContainsKey("mi_res_id") || query.ContainsKey("object_id") || query.ContainsKey("principal_id"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", before.Endpoint);
            Environment.SetEnvironmentVariable("IDENTITY_HEADER", before.Header);
        }
    }

    private static Dictionary<string, string> QueryHelpers(string query) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query).ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.OrdinalIgnoreCase);
}
