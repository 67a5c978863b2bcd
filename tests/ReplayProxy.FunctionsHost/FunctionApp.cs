using System.Text.Json;

namespace ReplayProxy.FunctionsHost;

/// <summary>
/// The built Functions app as the host sees it: its directory, the worker command from <c>worker.config.json</c>, and
/// the HTTP settings of <c>host.json</c>.
/// </summary>
internal sealed record FunctionApp(string Directory, string Executable, string WorkerPath, string RoutePrefix, TimeSpan FunctionTimeout)
{
    private const string DefaultRoutePrefix = "api";

    public static FunctionApp Load(string directory)
    {
        var workerConfig = Path.Combine(directory, "worker.config.json");
        if (!File.Exists(workerConfig))
        {
            throw new FileNotFoundException(
                $"No worker.config.json in {directory}: build src/ReplayProxy.Functions in the same configuration first, or pass --WorkerDirectory.",
                workerConfig);
        }

        using var worker = JsonDocument.Parse(File.ReadAllText(workerConfig));
        var description = worker.RootElement.GetProperty("description");
        var executable = description.GetProperty("defaultExecutablePath").GetString()!;
        var workerPath = Path.Combine(directory, description.GetProperty("defaultWorkerPath").GetString()!);

        var prefix = DefaultRoutePrefix;
        var timeout = TimeSpan.FromMinutes(30);
        var hostJson = Path.Combine(directory, "host.json");
        if (File.Exists(hostJson))
        {
            using var host = JsonDocument.Parse(File.ReadAllText(hostJson));
            if (host.RootElement.TryGetProperty("extensions", out var extensions)
                && extensions.TryGetProperty("http", out var http)
                && http.TryGetProperty("routePrefix", out var routePrefix))
            {
                prefix = routePrefix.GetString() ?? DefaultRoutePrefix;
            }

            if (host.RootElement.TryGetProperty("functionTimeout", out var functionTimeout))
            {
                timeout = TimeSpan.Parse(functionTimeout.GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return new FunctionApp(Path.GetFullPath(directory), executable, workerPath, prefix.Trim('/'), timeout);
    }

    /// <summary>The Functions app's build output of the same configuration as this host's own build.</summary>
    public static string DefaultDirectory()
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!.Name;
        for (var dir = framework; dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ReplayFunctions.sln")))
            {
                return Path.Combine(dir.FullName, "src", "ReplayProxy.Functions", "bin", configuration, framework.Name);
            }
        }

        throw new InvalidOperationException("ReplayFunctions.sln not found above " + AppContext.BaseDirectory + "; pass --WorkerDirectory.");
    }
}
