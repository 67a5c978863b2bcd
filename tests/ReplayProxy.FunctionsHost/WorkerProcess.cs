using System.Diagnostics;
using System.Globalization;

namespace ReplayProxy.FunctionsHost;

/// <summary>
/// The worker process, started as the host starts it: <c>dotnet &lt;app&gt;.dll</c> in the app directory with the
/// host's switches and environment, its stdout and stderr relayed line by line. Disposing ends it.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private const string MaxMessageLength = "2147483647";
    private readonly Process _process;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    /// <summary>Completes with the exit code when the worker ends.</summary>
    public Task<int> Exited => _exited.Task;

    public static WorkerProcess Start(FunctionApp app, Uri functionsUri, string workerId, string requestId)
    {
        var start = new ProcessStartInfo(app.Executable)
        {
            WorkingDirectory = app.Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(app.WorkerPath);
        // The legacy switches first, then the four the worker reads (Functions:Worker:*), as the host orders them.
        foreach (var (name, value) in new[]
        {
            ("--host", functionsUri.Host), ("--port", functionsUri.Port.ToString(CultureInfo.InvariantCulture)),
            ("--workerId", workerId), ("--requestId", requestId), ("--grpcMaxMessageLength", MaxMessageLength),
            ("--functions-uri", functionsUri.AbsoluteUri), ("--functions-worker-id", workerId),
            ("--functions-request-id", requestId), ("--functions-grpc-max-message-length", MaxMessageLength),
        })
        {
            start.ArgumentList.Add(name);
            start.ArgumentList.Add(value);
        }

        // The host's own environment (ReplayProxy__* settings included) plus what the host adds for the worker.
        start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = app.Directory;
        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = app.Directory;
        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        start.Environment["FUNCTIONS_WORKER_RUNTIME_VERSION"] = Environment.Version.ToString(2);
        // This host's own URL settings are for its front, never for the worker's Kestrel.
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("URLS");

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => Relay(Console.Out, e.Data);
        process.ErrorDataReceived += (_, e) => Relay(Console.Error, e.Data);
        process.Exited += (_, _) =>
        {
            // Let the output readers reach the end, so that the worker's last words are printed before anyone reacts.
            process.WaitForExit();
            worker._exited.TrySetResult(process.ExitCode);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Waits for the worker to end on its own (after WorkerTerminate), then kills it.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (await Task.WhenAny(_exited.Task, Task.Delay(grace)) != _exited.Task)
        {
            Kill();
            await Task.WhenAny(_exited.Task, Task.Delay(grace));
        }
    }

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static void Relay(TextWriter writer, string? line)
    {
        if (line is not null)
        {
            writer.WriteLine("[worker] " + line);
        }
    }
}
