using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ReplayProxy.Testing;

/// <summary>One log line: <see cref="Message"/> as formatted, <see cref="State"/> everything the line carries (the
/// message, its structured values, the values of every open scope, the exception), for assertions on what is (not) written.</summary>
public sealed record CapturedLog(string Category, LogLevel Level, EventId EventId, string Message, string State);

/// <summary>Every log line at every level from every category, with its structured state and its scopes.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<CapturedLog> Entries => _entries.ToArray();

    /// <summary>Forgets what was captured (long runs measure memory without the captured lines).</summary>
    public void Clear() => _entries.Clear();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new List<string> { state?.ToString() ?? string.Empty };
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                text.AddRange(pairs.Select(p => $"{p.Key}={p.Value}"));
            }

            owner._scopes.ForEachScope((scope, list) =>
            {
                list.Add(scope?.ToString() ?? string.Empty);
                if (scope is IEnumerable<KeyValuePair<string, object?>> scopePairs)
                {
                    list.AddRange(scopePairs.Select(p => $"{p.Key}={p.Value}"));
                }
            }, text);
            if (exception is not null)
            {
                text.Add(exception.ToString());
            }

            owner._entries.Enqueue(new CapturedLog(category, logLevel, eventId, formatter(state, exception), string.Join('\n', text)));
        }
    }
}
