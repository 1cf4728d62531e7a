using System.Diagnostics.Metrics;

namespace Flotilla.Server;

/// <summary>
/// The server's instruments (System.Diagnostics.Metrics, read by OpenTelemetry and exported for Prometheus):
/// commits, applies, elections (term changes seen), leadership, fsync latency and KV request latency. The web console
/// (<see cref="WebConsole.ConsoleMetrics"/>) listens to the same instruments.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "Flotilla.Server";

    private readonly Meter _meter = new(MeterName, "0.1.0");
    private readonly Histogram<double> _fsyncMs;
    private readonly Histogram<double> _requestMs;
    private Func<ServerSnapshot>? _read;

    public ServerMetrics()
    {
        _fsyncMs = _meter.CreateHistogram<double>("flotilla.fsync.duration", "ms", "Duration of fsync calls on the node's data directory.");
        _requestMs = _meter.CreateHistogram<double>("flotilla.kv.request.duration", "ms", "Duration of client KV requests (tag op: get or put), as the server sees them.");
        _meter.CreateObservableCounter("flotilla.raft.commit_index", () => (long)(_read?.Invoke().CommitIndex ?? 0), description: "Highest log index known committed.");
        _meter.CreateObservableCounter("flotilla.rsm.applied_index", () => (long)(_read?.Invoke().AppliedIndex ?? 0), description: "Highest log index applied to the state machine.");
        _meter.CreateObservableCounter("flotilla.raft.term", () => (long)(_read?.Invoke().Term ?? 0), description: "Current term; each increase is an election.");
        _meter.CreateObservableGauge("flotilla.raft.is_leader", () => _read?.Invoke().IsLeader == true ? 1 : 0, description: "1 on the leader.");
        _meter.CreateObservableGauge("flotilla.raft.persisted_bytes", () => _read?.Invoke().PersistedBytes ?? 0, "By", "Bytes of Raft state on disk.");
    }

    /// <summary>Reports the data directory's condition as <c>flotilla.storage.disk_full</c> (1 while full).</summary>
    internal void ObserveStorage(StorageHealth health) =>
        _meter.CreateObservableGauge("flotilla.storage.disk_full", () => health.DiskFull is null ? 0 : 1, description: "1 once a write to the data directory failed for lack of space.");

    /// <summary>Where observable instruments read the node's state (a cached copy refreshed on the node's scheduler).</summary>
    internal void Observe(Func<ServerSnapshot> read) => _read = read;

    internal void RecordFsync(TimeSpan duration) => _fsyncMs.Record(duration.TotalMilliseconds);

    /// <summary>One client KV request's duration; <paramref name="op"/> is "get" or "put".</summary>
    internal void RecordRequest(string op, TimeSpan duration) =>
        _requestMs.Record(duration.TotalMilliseconds, new KeyValuePair<string, object?>("op", op));

    /// <summary>Runs one client request and records how long it took, whether it succeeded or not.</summary>
    internal async Task<T> TimeAsync<T>(string op, Func<Task<T>> call)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        try { return await call(); }
        finally { RecordRequest(op, System.Diagnostics.Stopwatch.GetElapsedTime(start)); }
    }

    /// <summary>The meter behind these instruments: the console listens to this one and no other server's.</summary>
    internal Meter Meter => _meter;

    public void Dispose() => _meter.Dispose();
}

/// <summary>A consistent copy of the numbers status and metrics report, taken on the node's scheduler.</summary>
public sealed record ServerSnapshot(
    int Id, string Role, ulong Term, int Leader, ulong CommitIndex, ulong AppliedIndex, ulong LastIndex,
    long PersistedBytes, ulong SnapshotIndex, long SnapshotsTaken, bool IsLeader, long LastSnapshotBytes, string? DiskFull = null,
    string MemberRole = "",
    bool Joint = false,
    string Membership = "");
