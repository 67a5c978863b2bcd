using System.Net;
using System.Net.Sockets;

namespace ReplayProxy.Tests.Standalone;

/// <summary>
/// A host that cannot start says why in one line and exits 1: no "Hosting failed to start" error log with the
/// exception's stack trace on stdout next to it.
/// </summary>
public sealed class StartupErrorTests
{
    [Fact]
    public async Task Bad_setting_prints_one_line_naming_the_setting_and_no_stack_trace()
    {
        await using var host = StandaloneProcess.Start(new Dictionary<string, string> { ["ReplayProxy__Region"] = "APAC" });

        Assert.True(await host.ExitedWithinAsync(TimeSpan.FromSeconds(60)), "the host started with ReplayProxy__Region=APAC:\n" + host.Output);
        Assert.Equal(1, host.ExitCode);
        AssertOneClearLine(host.Output, "ReplayProxy:Region");
    }

    [Fact]
    public async Task Port_in_use_prints_one_line_naming_the_address_and_no_stack_trace()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var address = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";

        await using var host = StandaloneProcess.Start(arguments: ["--urls", address]);

        Assert.True(await host.ExitedWithinAsync(TimeSpan.FromSeconds(60)), $"the host started on {address}, which is in use:\n" + host.Output);
        Assert.Equal(1, host.ExitCode);
        AssertOneClearLine(host.Output, address);
    }

    private static void AssertOneClearLine(string output, string named)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("ReplayProxy failed to start: ", line, StringComparison.Ordinal);
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }
}
