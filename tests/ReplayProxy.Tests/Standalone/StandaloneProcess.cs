using System.Diagnostics;
using System.Text;

namespace ReplayProxy.Tests.Standalone;

/// <summary>
/// The standalone host (ReplayProxy.Server) as its own process, as a user starts it: <c>dotnet ReplayProxy.Server.dll</c>
/// with the given arguments, environment and working directory. Captures stdout and stderr together.
/// </summary>
internal sealed class StandaloneProcess : IAsyncDisposable
{
    private const string Listening = "Now listening on: ";
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private StandaloneProcess(Process process) => _process = process;

    public static string ServerDll { get; } = Path.Combine(AppContext.BaseDirectory, "ReplayProxy.Server.dll");

    /// <summary>stdout and stderr, interleaved as the lines arrived.</summary>
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

    public int ExitCode => _process.ExitCode;

    public static StandaloneProcess Start(IDictionary<string, string>? environment = null, string? workingDirectory = null, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(ServerDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var host = new StandaloneProcess(Process.Start(start)!);
        host._process.OutputDataReceived += (_, e) => host.OnLine(e.Data, host._outputClosed);
        host._process.ErrorDataReceived += (_, e) => host.OnLine(e.Data, host._errorClosed);
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        return host;
    }

    /// <summary>The address Kestrel bound, once the host says it is listening; fails with the output if it exits first.</summary>
    public async Task<Uri> ListeningAsync()
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_listening.Task, exited).WaitAsync(TimeSpan.FromSeconds(60));
        if (first != _listening.Task)
        {
            await Task.WhenAll(_outputClosed.Task, _errorClosed.Task).WaitAsync(TimeSpan.FromSeconds(10));
            throw new InvalidOperationException($"the standalone host exited with {_process.ExitCode} before listening:\n{Output}");
        }

        return await _listening.Task;
    }

    /// <summary>Waits for the process to end by itself (and for its output to be read to the end).</summary>
    public async Task<bool> ExitedWithinAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
            await Task.WhenAll(_outputClosed.Task, _errorClosed.Task).WaitAsync(TimeSpan.FromSeconds(10));
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private void OnLine(string? line, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        var at = line.IndexOf(Listening, StringComparison.Ordinal);
        if (at >= 0)
        {
            _listening.TrySetResult(new Uri(line[(at + Listening.Length)..].Trim()));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
