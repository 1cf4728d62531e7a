using System.Collections.Concurrent;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Kv;

namespace Flotilla.Linearizability.Reporting;

/// <summary>The models histories can name. Components with their own model (a lock service, a sharded store) call
/// <see cref="Register"/> once at startup.</summary>
public static class ModelCatalog
{
    private static readonly ConcurrentDictionary<string, IHistoryModel> Models = new(StringComparer.Ordinal)
    {
        [VersionedKvCodec.Name] = new HistoryModel<Models.StateSet<KvState>, KvInput, KvOutput>(VersionedKvCodec.Instance, VersionedKv.Model),
    };

    public static IEnumerable<string> Names => Models.Keys.Order(StringComparer.Ordinal);

    public static void Register(IHistoryModel model) => Models[model.Name] = model;

    public static IHistoryModel Find(string name) =>
        Models.TryGetValue(name, out var model)
            ? model
            : throw new HistoryFormatException($"unknown model \"{name}\" (known: {string.Join(", ", Names)})");

    /// <summary>Parses a JSON history, picks its model and checks it. Throws <see cref="HistoryFormatException"/> for a
    /// malformed history.</summary>
    public static HistoryReport CheckJson(string json, CheckOptions? options = null, CancellationToken cancellation = default)
    {
        using var document = HistoryJson.Parse(json);
        var model = Find(HistoryJson.ReadModelName(document));
        return model.Check(document, options ?? CheckOptions.Default, cancellation);
    }
}
