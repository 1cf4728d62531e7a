using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Models;
using Flotilla.Linearizability.Reporting;

namespace Flotilla.Linearizability.Kv;

/// <summary>Entry points for checking Flotilla's versioned key/value store.</summary>
public static class VersionedKv
{
    /// <summary>The model the checker runs: the versioned-KV spec over sets of possible states (for ErrMaybe).</summary>
    public static PowerSetModel<KvState, KvInput, KvOutput> Model { get; } = new(new VersionedKvSpec());

    public static CheckResult Check(IReadOnlyList<Operation<KvInput, KvOutput>> history, CheckOptions? options = null, CancellationToken cancellation = default) =>
        LinearizabilityChecker.Check(Model, history, options, cancellation);

    /// <summary>Checks and packages the result for printing or <see cref="HistoryHtml"/>.</summary>
    public static HistoryReport CheckAndReport(IReadOnlyList<Operation<KvInput, KvOutput>> history, CheckOptions? options = null, CancellationToken cancellation = default) =>
        HistoryReport.Create(VersionedKvCodec.Name, Model, history, Check(history, options, cancellation));

    public static HistoryRecorder<KvInput, KvOutput> CreateRecorder(TimeProvider? time = null) => new(VersionedKvCodec.Instance, time);

    public static string ToJson(IEnumerable<Operation<KvInput, KvOutput>> history) => HistoryJson.Serialize(VersionedKvCodec.Instance, history);

    public static IReadOnlyList<Operation<KvInput, KvOutput>> FromJson(string json) => HistoryJson.Deserialize(VersionedKvCodec.Instance, json);
}
