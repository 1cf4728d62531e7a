namespace Flotilla.Cli.Bench;

/// <summary>Counts and latencies of one kind of logical operation (reads or writes) as one client loop saw them.
/// Latency is recorded for successful operations only (like etcd's benchmark tool); failures are counted by kind.</summary>
public sealed class OpStats
{
    private readonly long[] _byStatus = new long[Enum.GetValues<BenchStatus>().Length];

    public LatencyHistogram LatencyNs { get; } = new();

    public long Ok => _byStatus[(int)BenchStatus.Ok];

    public long Count(BenchStatus status) => _byStatus[(int)status];

    public long Errors => _byStatus.Sum() - Ok;

    public void Record(BenchStatus status, long latencyNs)
    {
        _byStatus[(int)status]++;
        if (status == BenchStatus.Ok) LatencyNs.Record(latencyNs);
    }

    public void Add(OpStats other)
    {
        for (var i = 0; i < _byStatus.Length; i++) _byStatus[i] += other._byStatus[i];
        LatencyNs.Add(other.LatencyNs);
    }
}

/// <summary>Everything one client loop measured inside the measured window; merged across loops at the end.</summary>
public sealed class ClientStats
{
    public OpStats Reads { get; } = new();

    public OpStats Writes { get; } = new();

    /// <summary>Put requests sent for the logical writes (more than writes when versions conflicted).</summary>
    public long PutRequests { get; set; }

    /// <summary>Gets sent to learn a key's version after a conflict (part of a write's cost, not reads).</summary>
    public long RefreshGets { get; set; }

    /// <summary>Puts refused with ErrVersion/ErrNoKey because this client's cached version was stale.</summary>
    public long Conflicts { get; set; }

    public void Add(ClientStats other)
    {
        Reads.Add(other.Reads);
        Writes.Add(other.Writes);
        PutRequests += other.PutRequests;
        RefreshGets += other.RefreshGets;
        Conflicts += other.Conflicts;
    }
}
