using Flotilla.Kv.Client;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Kv;
using LinKvError = Flotilla.Linearizability.Kv.KvError;

namespace Flotilla.Kv.Replicated.Testing;

/// <summary>
/// Wraps a client and records each operation into a linearizability history (virtual time in simulation). An
/// operation that ends Unavailable stays pending — its effect is unknown, which is what the checker must assume.
/// </summary>
public sealed class RecordingClient(IKvClient inner, HistoryRecorder<KvInput, KvOutput> history, int clientId) : IKvClient
{
    public int ClientId => clientId;

    public async Task<KvGetResult> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var op = history.Begin(clientId, KvInput.Get(key));
        var result = await inner.GetAsync(key, cancellationToken);
        switch (result.Status)
        {
            case KvStatus.Ok: op.End(KvOutput.Read(result.Value!, checked((long)result.Version))); break;
            case KvStatus.ErrNoKey: op.End(KvOutput.NoKey); break;
            case KvStatus.Unavailable: break;
            default: throw new KvScenarioException($"unexpected get result {result}");
        }
        return result;
    }

    public async Task<KvPutResult> PutAsync(string key, string value, ulong version, CancellationToken cancellationToken = default)
    {
        var op = history.Begin(clientId, KvInput.Put(key, value, checked((long)version)));
        var result = await inner.PutAsync(key, value, version, cancellationToken);
        switch (result.Status)
        {
            case KvStatus.Ok: op.End(KvOutput.Ok); break;
            case KvStatus.ErrNoKey: op.End(KvOutput.NoKey); break;
            case KvStatus.ErrVersion: op.End(KvOutput.VersionMismatch); break;
            case KvStatus.ErrMaybe: op.End(new KvOutput(LinKvError.ErrMaybe)); break;
            case KvStatus.Unavailable: break;
            default: throw new KvScenarioException($"unexpected put result {result}");
        }
        return result;
    }
}

/// <summary>A replicated-KV scenario's check failed.</summary>
public sealed class KvScenarioException(string message) : Exception(message);
