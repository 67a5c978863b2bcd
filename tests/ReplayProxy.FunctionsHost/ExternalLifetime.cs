namespace ReplayProxy.FunctionsHost;

/// <summary>
/// Both web hosts of this process (gRPC and HTTP front) are started and stopped by <c>Program</c>, which owns the
/// worker and handles Ctrl+C and SIGTERM itself, so that no signal can end the process with the worker still running.
/// </summary>
internal sealed class ExternalLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
