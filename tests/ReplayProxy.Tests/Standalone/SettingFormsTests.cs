using System.Net;

namespace ReplayProxy.Tests.Standalone;

/// <summary>
/// The documented ways to give the standalone host a setting whose name bash cannot export
/// (<c>ReplayProxy__UpstreamHeaders__X-Proxy-Auth</c>), each on the real process: the variable set by
/// <c>env 'NAME=value'</c> (here: the process environment), a <c>--ReplayProxy:...</c> argument, and an
/// <c>appsettings.json</c> in the working directory, which is the host's content root.
/// </summary>
public sealed class SettingFormsTests : IDisposable
{
    private const string Secret = "s3cret-from-the-operator";
    private readonly string _workingDirectory = Directory.CreateTempSubdirectory("replayproxy-cwd-").FullName;

    public enum Form
    {
        EnvironmentVariable,
        CommandLine,
        WorkingDirectoryAppSettings,
    }

    [Theory]
    [InlineData(Form.EnvironmentVariable)]
    [InlineData(Form.CommandLine)]
    [InlineData(Form.WorkingDirectoryAppSettings)]
    public async Task Upstream_header_with_a_dash_in_its_name_reaches_the_upstream(Form form)
    {
        await using var upstream = await FakeAmplitude.StartAsync();
        var environment = new Dictionary<string, string> { ["ReplayProxy__Upstreams__Config"] = upstream.BaseAddress.ToString() };
        string[] arguments = [];
        switch (form)
        {
            case Form.EnvironmentVariable:
                environment["ReplayProxy__UpstreamHeaders__X-Proxy-Auth"] = Secret;
                break;
            case Form.CommandLine:
                arguments = [$"--ReplayProxy:UpstreamHeaders:X-Proxy-Auth={Secret}"];
                break;
            case Form.WorkingDirectoryAppSettings:
                await File.WriteAllTextAsync(Path.Combine(_workingDirectory, "appsettings.json"),
                    $$"""{ "ReplayProxy": { "UpstreamHeaders": { "X-Proxy-Auth": "{{Secret}}" } } }""");
                break;
        }

        await using var host = StandaloneProcess.Start(environment, _workingDirectory, arguments);
        using var client = new HttpClient { BaseAddress = await host.ListeningAsync() };
        using var response = await client.GetAsync("/config/key?config_group=browser");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Secret, Assert.Single(upstream.Received).Header("X-Proxy-Auth"));
    }

    /// <summary>The working directory's file overrides the shipped defaults next to the binary, and a bad value in it
    /// stops the host like any other bad setting.</summary>
    [Fact]
    public async Task Working_directory_appsettings_json_is_read_over_the_shipped_one()
    {
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "appsettings.json")), "the build output has no shipped appsettings.json");
        await File.WriteAllTextAsync(Path.Combine(_workingDirectory, "appsettings.json"), """{ "ReplayProxy": { "Region": "Mars" } }""");

        await using var host = StandaloneProcess.Start(workingDirectory: _workingDirectory);

        Assert.True(await host.ExitedWithinAsync(TimeSpan.FromSeconds(60)), "the host ignored the working directory's appsettings.json:\n" + host.Output);
        Assert.Equal(1, host.ExitCode);
        Assert.Contains("ReplayProxy:Region", host.Output, StringComparison.Ordinal);
        Assert.Contains("Mars", host.Output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_workingDirectory, recursive: true);
}
