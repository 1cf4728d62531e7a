using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;

namespace Flotilla.Cli.Bench;

/// <summary>
/// Every request of a run in the checker's versioned-KV form. Each client loop appends to its own list (no lock on
/// the hot path); the lists are merged in call order at the end. Unlike <c>HistoryRecorder</c>, the input is fixed
/// when the request returns: an etcd blind put only learns which version it overwrote from the reply, and is then
/// recorded as the equivalent conditional put at that version.
/// </summary>
public sealed class BenchHistory(TimeProvider time, long originTimestamp)
{
    private readonly List<List<Operation<KvInput, KvOutput>>> _perClient = [];
    private long _count;

    /// <summary>The run should stop: the next operations would exceed <see cref="BenchOptions.HistoryOperationsMax"/>.</summary>
    public bool IsFull => Interlocked.Read(ref _count) >= BenchOptions.HistoryOperationsMax;

    public long Count => Interlocked.Read(ref _count);

    public ClientLog ForClient(int client)
    {
        var list = new List<Operation<KvInput, KvOutput>>();
        lock (_perClient) _perClient.Add(list);
        return new ClientLog(this, client, list);
    }

    public IReadOnlyList<Operation<KvInput, KvOutput>> Operations()
    {
        lock (_perClient)
            return _perClient.SelectMany(l => l).OrderBy(o => o.CallTime).ToArray();
    }

    /// <summary>Writes the history atomically (temp file, then rename), so a reader never sees half a file.</summary>
    public void Save(string path)
    {
        var temp = path + ".tmp";
        using (var stream = File.Create(temp))
            Linearizability.History.HistoryJson.Write(stream, VersionedKvCodec.Instance, Operations());
        File.Move(temp, path, overwrite: true);
    }

    private long Nanoseconds(long timestamp) => (long)((Int128)(timestamp - originTimestamp) * 1_000_000_000 / time.TimestampFrequency);

    /// <summary>One client's part of the history. Not thread-safe: one loop, one request at a time.</summary>
    public sealed class ClientLog(BenchHistory history, int client, List<Operation<KvInput, KvOutput>> operations)
    {
        /// <summary>Records a request called at <paramref name="callTimestamp"/>. <paramref name="output"/> null = no
        /// answer (unknown outcome): the operation is recorded as never returned.</summary>
        public void Add(KvInput input, long callTimestamp, KvOutput? output, long returnTimestamp)
        {
            Interlocked.Increment(ref history._count);
            operations.Add(new Operation<KvInput, KvOutput>(client, input, history.Nanoseconds(callTimestamp), output,
                output is null ? null : history.Nanoseconds(returnTimestamp)));
        }
    }
}
