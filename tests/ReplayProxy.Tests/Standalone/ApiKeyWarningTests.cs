namespace ReplayProxy.Tests.Standalone;

/// <summary>
/// The standalone host accepts an empty <c>AllowedApiKeys</c> (local runs) but says once, at start, that it then
/// forwards any key; <c>*</c> (any key, on purpose) and a real list get no warning.
/// </summary>
public sealed class ApiKeyWarningTests
{
    private const string Started = "Application started.";

    private static async Task<string> StartedOutputAsync(Dictionary<string, string> environment)
    {
        await using var host = StandaloneProcess.Start(environment);
        await host.ListeningAsync();
        // Logged once every hosted service has started.
        await Eventually.WaitUntil(() => host.Output.Contains(Started, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains(Started, host.Output, StringComparison.Ordinal);
        return host.Output;
    }

    private static string[] LinesNaming(string output) =>
        output.Split('\n').Where(l => l.Contains("ReplayProxy:AllowedApiKeys", StringComparison.Ordinal)).ToArray();

    [Fact]
    public async Task An_empty_key_list_is_warned_about_once_at_start()
    {
        var output = await StartedOutputAsync(new() { ["ReplayProxy__AllowedApiKeys"] = "" });

        var line = Assert.Single(LinesNaming(output));
        Assert.Contains("is empty, so requests with any Amplitude API key are forwarded", line, StringComparison.Ordinal);
        Assert.Contains("warn:", output[..output.IndexOf(line, StringComparison.Ordinal)].Split('\n')[^2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_star_is_noted_without_a_warning_and_a_key_list_says_nothing()
    {
        var star = await StartedOutputAsync(new() { ["ReplayProxy__AllowedApiKeys"] = "*" });
        var listed = await StartedOutputAsync(new() { ["ReplayProxy__AllowedApiKeys"] = "key1,key2" });

        Assert.Contains("is '*': requests with any Amplitude API key are forwarded", Assert.Single(LinesNaming(star)), StringComparison.Ordinal);
        Assert.DoesNotContain("warn:", star, StringComparison.Ordinal);
        Assert.Empty(LinesNaming(listed));
    }
}
