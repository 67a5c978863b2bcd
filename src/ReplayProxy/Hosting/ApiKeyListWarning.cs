using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ReplayProxy;

/// <summary>
/// Says once, at start, when the proxy forwards any API key: a warning when <c>AllowedApiKeys</c> is empty (an open
/// relay nobody chose: the standalone host run locally, or a hand-edited app setting), a note when it is <c>*</c>.
/// Logged once the host has started (a host that fails to start says only why).
/// </summary>
internal sealed partial class ApiKeyListWarning(ReplayProxySettings settings, ILogger<ApiKeyListWarning> logger) : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (settings.ApiKeys.IsEmpty)
        {
            LogEmpty(logger);
        }
        else if (settings.ApiKeys.AnyOnPurpose)
        {
            LogAny(logger);
        }

        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "ReplayProxy:AllowedApiKeys is empty, so requests with any Amplitude API key are forwarded: anyone can send their project's data through this proxy. List your projects' keys, or set '*' to accept any key on purpose.")]
    private static partial void LogEmpty(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "ReplayProxy:AllowedApiKeys is '*': requests with any Amplitude API key are forwarded.")]
    private static partial void LogAny(ILogger logger);
}
