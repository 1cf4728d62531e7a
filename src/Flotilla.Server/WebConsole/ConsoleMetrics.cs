using System.Diagnostics.Metrics;

namespace Flotilla.Server.WebConsole;

/// <summary>
/// The console's charts: one point a second over the last <see cref="Points"/> seconds, read from this server's own
/// System.Diagnostics.Metrics instruments (the ones OpenTelemetry exports for Prometheus) through a
/// <see cref="MeterListener"/>: commits/s and elections from the observable <c>flotilla.raft.commit_index</c> and
/// <c>flotilla.raft.term</c>, put/get and fsync latency percentiles from the <c>flotilla.kv.request.duration</c> and
/// <c>flotilla.fsync.duration</c> histograms. Only the instruments of the given meter are read, so several servers in
/// one process (tests) keep their charts apart.
/// </summary>
internal sealed class ConsoleMetrics : IDisposable
{
    /// <summary>Seconds of history kept and charted (five minutes).</summary>
    public const int Points = 300;

    /// <summary>Measurements kept per series and second for the percentiles: beyond it, later ones replace random ones.</summary>
    private const int SamplesPerSecondMax = 2048;

    private readonly MeterListener _listener = new();
    private readonly Meter _meter;
    private readonly object _gate = new();
    private readonly Dictionary<string, List<double>> _second = new();
    private readonly Queue<ConsolePoint> _points = new();
    private readonly Random _random = new();
    private readonly Timer _timer;
    private long _commitIndex, _term;
    private long? _lastCommit, _lastTerm;

    public ConsoleMetrics(Meter meter)
    {
        _meter = meter;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _meter) && instrument.Name is "flotilla.raft.commit_index" or "flotilla.raft.term"
                    or "flotilla.kv.request.duration" or "flotilla.fsync.duration")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "flotilla.raft.commit_index") Interlocked.Exchange(ref _commitIndex, value);
            else Interlocked.Exchange(ref _term, value);
        });
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            var series = instrument.Name == "flotilla.fsync.duration" ? "fsync" : OpOf(tags);
            lock (_gate)
            {
                if (!_second.TryGetValue(series, out var values)) _second[series] = values = [];
                if (values.Count < SamplesPerSecondMax) values.Add(value);
                else values[_random.Next(values.Count)] = value;
            }
        });
        _listener.Start();
        _timer = new Timer(_ => Tick(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    private static string OpOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
            if (tag.Key == "op" && tag.Value is string op) return op;
        return "other";
    }

    /// <summary>Closes the second that just ended: one point per series.</summary>
    internal void Tick()
    {
        _listener.RecordObservableInstruments();
        var commit = Interlocked.Read(ref _commitIndex);
        var term = Interlocked.Read(ref _term);
        Dictionary<string, List<double>> second;
        lock (_gate)
        {
            second = new Dictionary<string, List<double>>(_second);
            _second.Clear();
        }
        var point = new ConsolePoint(
            DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            _lastCommit is { } c ? Math.Max(0, commit - c) : 0,
            _lastTerm is { } t && term > 0 ? Math.Max(0, term - t) : 0,
            Percentile(second, "put", 0.5), Percentile(second, "put", 0.99),
            Percentile(second, "get", 0.5), Percentile(second, "get", 0.99),
            Percentile(second, "fsync", 0.5), Percentile(second, "fsync", 0.99));
        _lastCommit = commit;
        _lastTerm = term;
        lock (_points)
        {
            _points.Enqueue(point);
            while (_points.Count > Points) _points.Dequeue();
        }
    }

    private static double? Percentile(Dictionary<string, List<double>> second, string series, double q)
    {
        if (!second.TryGetValue(series, out var values) || values.Count == 0) return null;
        values.Sort();
        return Math.Round(values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)], 3);
    }

    /// <summary>The kept points, oldest first.</summary>
    public IReadOnlyList<ConsolePoint> History()
    {
        lock (_points) return _points.ToArray();
    }

    public void Dispose()
    {
        _timer.Dispose();
        _listener.Dispose();
    }
}

/// <summary>One second of the console's charts. Latencies are in milliseconds, null when nothing was measured.</summary>
internal sealed record ConsolePoint(
    long Time, long Commits, long Elections,
    double? PutP50, double? PutP99, double? GetP50, double? GetP99, double? FsyncP50, double? FsyncP99);
