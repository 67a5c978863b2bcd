using System.Net;
using System.Text.Json;

namespace ReplayProxy.Tests.Integration;

internal static class ProblemAssert
{
    /// <summary>A proxy-made error: problem+json whose <c>code</c> equals the status (the analytics SDK reads it).</summary>
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)status, json.RootElement.GetProperty("code").GetInt32());
        Assert.Equal((int)status, json.RootElement.GetProperty("status").GetInt32());
        return json.RootElement.Clone();
    }
}
