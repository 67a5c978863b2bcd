using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace ReplayProxy.Tests.Standalone;

/// <summary>The real standalone process with a spool directory: kept uploads survive SIGKILL and are delivered by
/// the next process on the same directory; a second process cannot share the directory; files are owner-only.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SpoolProcessTests : IDisposable
{
    private readonly string _directory = Path.Combine(Directory.CreateTempSubdirectory("spool-process-").FullName, "spool");

    [Fact]
    public async Task Uploads_kept_before_a_SIGKILL_are_delivered_once_by_the_next_process()
    {
        await using var amplitude = await OutageAmplitude.StartAsync(OutageMode.ServiceUnavailable);
        var bodies = Enumerable.Range(0, 5).Select(i => RandomNumberGenerator.GetBytes(3000 + i)).ToList();
        await using (var first = StandaloneProcess.Start(Environment(amplitude.BaseAddress)))
        {
            using var client = ProxyClient.Create(await first.ListeningAsync());
            foreach (var body in bodies)
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await client.PostAsync(new Uri("/sessions/v2/track?device_id=d&session_id=1", UriKind.Relative), content);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.True(response.Headers.Contains("X-Replay-Proxy-Spooled"));
            }

            // DisposeAsync kills the process (SIGKILL): no shutdown code runs.
        }

        var items = Directory.GetFiles(_directory, "*.spool");
        Assert.Equal(bodies.Count, items.Length);
        Assert.All(items, item => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(item)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));

        amplitude.Mode = OutageMode.None;
        await using var second = StandaloneProcess.Start(Environment(amplitude.BaseAddress));
        await second.ListeningAsync();
        await Eventually.WaitUntil(() => amplitude.Accepted.Count >= bodies.Count && Directory.GetFiles(_directory, "*.spool").Length == 0, TimeSpan.FromSeconds(60));

        Assert.Empty(Directory.GetFiles(_directory, "*.spool"));
        Assert.Equal(bodies.Select(b => Convert.ToHexString(SHA256.HashData(b))).Order(), amplitude.Accepted.Select(r => r.BodySha256).Order());
        Assert.All(amplitude.Accepted, r => Assert.Equal("?device_id=d&session_id=1", r.Query));
    }

    [Fact]
    public async Task A_second_process_on_the_same_directory_refuses_to_start_naming_the_setting()
    {
        await using var amplitude = await OutageAmplitude.StartAsync();
        await using var first = StandaloneProcess.Start(Environment(amplitude.BaseAddress));
        await first.ListeningAsync();

        await using var second = StandaloneProcess.Start(Environment(amplitude.BaseAddress));

        Assert.True(await second.ExitedWithinAsync(TimeSpan.FromSeconds(60)));
        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains("ReplayProxy:Spool:Directory", second.Output, StringComparison.Ordinal);
        Assert.Contains("in use by another process", second.Output, StringComparison.Ordinal);
    }

    private Dictionary<string, string> Environment(Uri upstream) => new()
    {
        ["ReplayProxy__Upstreams__Replay"] = upstream.ToString(),
        ["ReplayProxy__Upstreams__Config"] = upstream.ToString(),
        ["ReplayProxy__Upstreams__Analytics"] = upstream.ToString(),
        ["ReplayProxy__Spool__Directory"] = _directory,
        ["ReplayProxy__Spool__RetryMaxSeconds"] = "1",
    };

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);
}
