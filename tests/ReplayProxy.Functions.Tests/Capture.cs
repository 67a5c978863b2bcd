using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ReplayProxy.Functions.Tests;

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
