using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace ReplayProxy.Testing;

/// <summary>
/// The test host (tests/ReplayProxy.FunctionsHost, built in this test's configuration) as a process on a free loopback
/// port, running the real worker with the given <c>ReplayProxy__*</c> (or other) environment settings. Ready when
/// <c>/healthz</c> answers 200 through the worker. Disposing stops it (SIGTERM, then kill) and leaves no process.
/// </summary>
public sealed partial class FunctionsHostProcess : IProxyUnderTest
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FunctionsHostProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>The proxy runs in the worker, another process: its logs are in <see cref="Output"/>, not captured here.</summary>
    public CapturingLoggerProvider? Logs => null;

    public HttpClient CreateClient() => ProxyClient.Create(BaseAddress);

    public int ProcessId => _process.Id;

    /// <summary>Everything the host and its worker wrote to stdout so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Everything the host and its worker wrote to stderr so far.</summary>
    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>The worker's process id, from the host's ready line.</summary>
    public int WorkerProcessId => int.Parse(WorkerPid().Match(Output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    public Task<int> Exited => _exited.Task;

    /// <summary>Starts the host and waits until <c>/healthz</c> answers through the worker.</summary>
    public static async Task<FunctionsHostProcess> StartAsync(IReadOnlyDictionary<string, string?> environment)
    {
        var host = Launch(environment);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        // Behind Front Door its health probe carries the profile's id; without it the proxy answers 403.
        if (environment.TryGetValue("ReplayProxy__FrontDoorId", out var frontDoorId) && !string.IsNullOrEmpty(frontDoorId))
        {
            client.DefaultRequestHeaders.Add("X-Azure-FDID", frontDoorId);
        }

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ReadyTimeout)
        {
            if (host.Exited.IsCompleted)
            {
                var code = await host.Exited;
                await host.DisposeAsync();
                throw new InvalidOperationException($"The test host exited with {code} before it was ready:\n{host.Output}\n{host.Error}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri(host.BaseAddress, "/healthz"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return host;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet: the front starts once the worker has loaded its functions.
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        await host.DisposeAsync();
        throw new TimeoutException($"The test host was not ready within {ReadyTimeout}:\n{host.Output}\n{host.Error}");
    }

    /// <summary>Starts the host and waits for it to exit on its own (bad settings); returns it exited.</summary>
    public static async Task<FunctionsHostProcess> RunToExitAsync(IReadOnlyDictionary<string, string?> environment)
    {
        var host = Launch(environment);
        if (await Task.WhenAny(host.Exited, Task.Delay(ReadyTimeout)) != host.Exited)
        {
            await host.DisposeAsync();
            throw new TimeoutException($"The test host did not exit:\n{host.Output}\n{host.Error}");
        }

        return host;
    }

    /// <summary>Asks the host to stop as a terminal or an orchestrator does (SIGTERM) and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_exited.Task.IsCompleted)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
            await kill.WaitForExitAsync();
        }

        if (await Task.WhenAny(_exited.Task, Task.Delay(TimeSpan.FromSeconds(30))) != _exited.Task)
        {
            _process.Kill(entireProcessTree: true);
        }

        return await _exited.Task;
    }

    /// <summary>SIGKILL to the host and its worker: no shutdown runs.</summary>
    public async ValueTask KillAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }

        await _exited.Task.WaitAsync(TimeSpan.FromSeconds(30));
        _process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }

            _process.Dispose();
        }
    }

    private static FunctionsHostProcess Launch(IReadOnlyDictionary<string, string?> environment)
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var hostDll = Repo.PathOf("tests", "ReplayProxy.FunctionsHost", "bin", framework.Parent!.Name, framework.Name, "ReplayProxy.FunctionsHost.dll");
        var baseAddress = new Uri($"http://127.0.0.1:{Loopback.FreePort()}");
        // What `dotnet run -c <configuration> --no-build --project tests/ReplayProxy.FunctionsHost` runs, without the
        // dotnet-run process in between, so that the signal reaches the host itself.
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { hostDll, "--urls", baseAddress.ToString().TrimEnd('/') },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repo.Root,
        };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("ReplayProxy__", StringComparison.Ordinal) || k.StartsWith("APPLICATIONINSIGHTS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var host = new FunctionsHostProcess(process, baseAddress);
        process.OutputDataReceived += (_, e) => Append(host._output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(host._error, e.Data);
        process.Exited += (_, _) =>
        {
            process.WaitForExit();
            host._exited.TrySetResult(process.ExitCode);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is not null)
        {
            lock (buffer)
            {
                buffer.AppendLine(line);
            }
        }
    }

    public static bool IsRunning(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"worker process (\d+)")]
    private static partial Regex WorkerPid();
}
