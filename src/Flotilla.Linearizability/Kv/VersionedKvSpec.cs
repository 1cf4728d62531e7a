using Flotilla.Linearizability.Models;

namespace Flotilla.Linearizability.Kv;

/// <summary>
/// The sequential specification of Flotilla's versioned key/value store, for one key (histories are partitioned by
/// key). Nondeterministic because of ErrMaybe and unknown outputs: such a put may or may not have been applied.
/// </summary>
public sealed class VersionedKvSpec : INondeterministicModel<KvState, KvInput, KvOutput>
{
    public KvState Init() => KvState.Absent;

    public IEnumerable<KvState> Step(KvState state, KvInput input, KvOutput? output) =>
        input.Op == KvOp.Get ? StepGet(state, output) : StepPut(state, input, output);

    private static IEnumerable<KvState> StepGet(KvState state, KvOutput? output)
    {
        var legal = output?.Error switch
        {
            // A get that never returned (or whose outcome is unknown) tells us nothing and changes nothing.
            null or KvError.ErrMaybe => true,
            KvError.ErrNoKey => !state.Exists,
            KvError.Ok => state.Exists && output.Version == state.Version && output.Value == state.Value,
            _ => false,
        };
        return legal ? [state] : [];
    }

    private static IEnumerable<KvState> StepPut(KvState state, KvInput input, KvOutput? output)
    {
        var matches = state.Version == input.Version;
        var applied = new KvState(input.Value, input.Version + 1);
        switch (output?.Error)
        {
            case null:
            case KvError.ErrMaybe:
                // Unknown outcome: applied (only possible if the version matches) or not applied.
                return matches ? [applied, state] : [state];
            case KvError.Ok:
                return matches ? [applied] : [];
            case KvError.ErrVersion:
                // Only an existing key at another version: a non-create put on an absent key is answered ErrNoKey
                // (and a create of an absent key always matches), so ErrVersion there is a server bug.
                return state.Exists && !matches ? [state] : [];
            case KvError.ErrNoKey:
                return !state.Exists && input.Version != 0 ? [state] : [];
            default:
                return [];
        }
    }

    public string? PartitionKey(KvInput input) => input.Key;

    /// <summary>Gets never change a key; a put that reported ErrVersion or ErrNoKey did not either.</summary>
    public bool IsReadOnly(KvInput input, KvOutput? output) =>
        input.Op == KvOp.Get || output?.Error is KvError.ErrVersion or KvError.ErrNoKey;

    public IEqualityComparer<KvState> StateComparer => EqualityComparer<KvState>.Default;

    public string DescribeOperation(KvInput input, KvOutput? output)
    {
        var call = input.Op == KvOp.Get
            ? $"get({Quote(input.Key)})"
            : $"put({Quote(input.Key)}, {Quote(input.Value)}, v{input.Version})";
        return $"{call} → {DescribeOutput(input, output)}";
    }

    private static string DescribeOutput(KvInput input, KvOutput? output) => output switch
    {
        null => "? (never returned)",
        { Error: KvError.Ok } when input.Op == KvOp.Get => $"({Quote(output.Value)}, v{output.Version})",
        { Error: KvError.Ok } => "OK",
        _ => output.Error.ToString(),
    };

    public string DescribeState(KvState state) => state.Exists ? $"({Quote(state.Value)}, v{state.Version})" : "absent";

    private static string Quote(string? s) => s is null ? "null" : "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
