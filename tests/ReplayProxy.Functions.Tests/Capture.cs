using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace ReplayProxy.Functions.Tests;

internal sealed record CapturedLog(string Category, LogLevel Level, EventId EventId, string Message, string State);

/// <summary>Every log line at every level, with its message, its structured state and its scopes.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<CapturedLog> Entries { get; } = new();

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

            owner.Entries.Enqueue(new CapturedLog(category, logLevel, eventId, formatter(state, exception), string.Join('\n', text)));
        }
    }
}

/// <summary>Every activity from every source (started and stopped), and every metric measurement's tags, process-wide.</summary>
internal sealed class TelemetryCapture : IDisposable
{
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;

    public TelemetryCapture()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            SampleUsingParentId = (ref ActivityCreationOptions<string> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = activity => Record("start", activity),
            ActivityStopped = activity => Record("stop", activity),
        };
        ActivitySource.AddActivityListener(_activities);

        _meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) => listener.EnableMeasurementEvents(instrument),
        };
        _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => RecordMeasurement(i, tags));
        _meters.SetMeasurementEventCallback<int>((i, v, tags, _) => RecordMeasurement(i, tags));
        _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => RecordMeasurement(i, tags));
        _meters.SetMeasurementEventCallback<float>((i, v, tags, _) => RecordMeasurement(i, tags));
        _meters.SetMeasurementEventCallback<short>((i, v, tags, _) => RecordMeasurement(i, tags));
        _meters.SetMeasurementEventCallback<byte>((i, v, tags, _) => RecordMeasurement(i, tags));
        _meters.SetMeasurementEventCallback<decimal>((i, v, tags, _) => RecordMeasurement(i, tags));
        _meters.Start();
    }

    /// <summary>One line per activity event: "start|stop source operation display | tag=value ... | events | baggage".</summary>
    public ConcurrentQueue<string> Activities { get; } = new();

    /// <summary>One line per measurement: "meter instrument | tag=value ...".</summary>
    public ConcurrentQueue<string> Measurements { get; } = new();

    public ConcurrentQueue<string> ActivitySources { get; } = new();

    public void RecordObservable() => _meters.RecordObservableInstruments();

    private void Record(string phase, Activity activity)
    {
        ActivitySources.Enqueue(activity.Source.Name);
        var parts = new List<string>
        {
            $"{phase} {activity.Source.Name} {activity.OperationName} {activity.DisplayName} {activity.StatusDescription}",
        };
        parts.AddRange(activity.TagObjects.Select(t => $"{t.Key}={t.Value}"));
        parts.AddRange(activity.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name}:{t.Key}={t.Value}").Append(e.Name)));
        parts.AddRange(activity.Baggage.Select(b => $"baggage:{b.Key}={b.Value}"));
        parts.AddRange(activity.Links.SelectMany(l => l.Tags?.Select(t => $"link:{t.Key}={t.Value}") ?? []));
        Activities.Enqueue(string.Join(" | ", parts));
    }

    private void RecordMeasurement(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var parts = new List<string> { $"{instrument.Meter.Name} {instrument.Name}" };
        foreach (var tag in tags)
        {
            parts.Add($"{tag.Key}={tag.Value}");
        }

        if (instrument.Tags is not null)
        {
            parts.AddRange(instrument.Tags.Select(t => $"instrument:{t.Key}={t.Value}"));
        }

        if (instrument.Meter.Tags is not null)
        {
            parts.AddRange(instrument.Meter.Tags.Select(t => $"meter:{t.Key}={t.Value}"));
        }

        Measurements.Enqueue(string.Join(" | ", parts));
    }

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }
}
