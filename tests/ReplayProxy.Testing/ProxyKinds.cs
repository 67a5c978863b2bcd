using System.Diagnostics;

namespace ReplayProxy.Testing;

/// <summary>The core on Kestrel in this process, configured as the standalone host runs it (<see cref="ProxyHost"/>);
/// bad settings are tried on the real standalone host, <c>ReplayProxy.Server.dll</c>, as a process.</summary>
public sealed class StandaloneProxy : IProxyKind
{
    public static bool BehindFunctionsHost => false;

    public static bool HostAddsPlatformHeaders => false;

    public static async Task<IProxyUnderTest> StartAsync(ProxyUpstreams upstreams, IReadOnlyDictionary<string, string?>? settings = null)
    {
        ArgumentNullException.ThrowIfNull(upstreams);
        return await ProxyHost.StartAsync(upstreams.Replay, upstreams.Config, upstreams.Analytics, settings);
    }

    public static async Task<RefusedStart> StartRefusedAsync(string variable, string value)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "ReplayProxy.Server.dll"), "--urls", "http://127.0.0.1:0" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment[variable] = value;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"The standalone host started with {variable}={value}.");
        }

        _ = await stdout;
        return new RefusedStart(process.ExitCode, await stderr);
    }
}

/// <summary>The Functions test host (tests/ReplayProxy.FunctionsHost) running the real isolated worker, as a process
/// (<see cref="FunctionsHostProcess"/>); settings reach the worker as <c>ReplayProxy__*</c> environment variables.</summary>
public sealed class FunctionsProxy : IProxyKind
{
    public static bool BehindFunctionsHost => true;

    public static bool HostAddsPlatformHeaders => true;

    public static async Task<IProxyUnderTest> StartAsync(ProxyUpstreams upstreams, IReadOnlyDictionary<string, string?>? settings = null) =>
        await FunctionsHostProcess.StartAsync(Environment(upstreams, settings));

    public static async Task<RefusedStart> StartRefusedAsync(string variable, string value)
    {
        var upstream = Loopback.ClosedAddress();
        var environment = Environment(ProxyUpstreams.All(upstream), null);
        environment[variable] = value;
        await using var host = await FunctionsHostProcess.RunToExitAsync(environment);
        return new RefusedStart(await host.Exited, host.Error);
    }

    /// <summary>The upstreams and settings as the environment variables the worker reads.</summary>
    public static Dictionary<string, string?> Environment(ProxyUpstreams upstreams, IReadOnlyDictionary<string, string?>? settings)
    {
        ArgumentNullException.ThrowIfNull(upstreams);
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ReplayProxy__Upstreams__Replay"] = upstreams.Replay.ToString(),
            ["ReplayProxy__Upstreams__Config"] = upstreams.Config.ToString(),
            ["ReplayProxy__Upstreams__Analytics"] = upstreams.Analytics.ToString(),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            environment["ReplayProxy__" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return environment;
    }
}
