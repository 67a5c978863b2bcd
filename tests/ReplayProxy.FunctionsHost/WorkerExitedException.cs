namespace ReplayProxy.FunctionsHost;

/// <summary>The worker ended before the host was done with it; its own output (stderr) says why.</summary>
internal sealed class WorkerExitedException(int exitCode)
    : Exception($"The worker exited with code {exitCode}; its output above says why.")
{
    public int ExitCode { get; } = exitCode;
}
