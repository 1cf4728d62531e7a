using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;

namespace Flotilla.Linearizability.Tests.Support;

/// <summary>Terse builders for hand-written versioned-KV histories.</summary>
internal static class Kv
{
    public static Operation<KvInput, KvOutput> Get(int client, long call, long? ret, string key, string value, long version) =>
        new(client, KvInput.Get(key), call, ret is null ? null : KvOutput.Read(value, version), ret);

    public static Operation<KvInput, KvOutput> GetNoKey(int client, long call, long ret, string key) =>
        new(client, KvInput.Get(key), call, KvOutput.NoKey, ret);

    public static Operation<KvInput, KvOutput> Put(int client, long call, long? ret, string key, string value, long version, KvOutput? output = null) =>
        new(client, KvInput.Put(key, value, version), call, ret is null ? null : output ?? KvOutput.Ok, ret);

    public static CheckOutcome Check(params Operation<KvInput, KvOutput>[] history) => VersionedKv.Check(history).Outcome;
}
