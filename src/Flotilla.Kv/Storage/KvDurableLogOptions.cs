using Flotilla.Wal;
using Microsoft.Extensions.Logging;

namespace Flotilla.Kv.Storage;

public sealed record KvDurableLogOptions
{
    /// <summary>Directory (inside the node's file system) of the snapshot file.</summary>
    public string Directory { get; init; } = "kv";

    /// <summary>The write-ahead log of applied puts. Smaller segments than Raft's default: KV records are small, and a
    /// new segment is zero-filled inline when created (the first put of a fresh store pays for it). Preallocated on
    /// purpose: a zero-filled segment records its length, so one cut short mid-file is refused at start instead of
    /// being read as a shorter log (a growing file cut at a batch boundary looks like a crash before that batch).</summary>
    public WalOptions Wal { get; init; } = new() { Directory = "kv/wal", SegmentBytes = 4 * WalOptions.MiB, RecordBytesMax = 4 * (int)WalOptions.MiB, Preallocate = true };

    /// <summary>When the log's synced size passes this, the state is written as a snapshot and the log compacted, so
    /// restart time and disk use are bounded by the data, not by the number of puts ever made.</summary>
    public long CompactAfterBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>How errors name the store's location ("disk full (PATH)"): the data directory on a real server.</summary>
    public string DisplayPath { get; init; } = "kv";

    /// <summary>While the disk is full, a put tries at most this often whether space came back (by writing a probe
    /// file as large as a new log segment); the others are refused at once.</summary>
    public TimeSpan DiskFullProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where disk-full and storage failures are reported; none when null.</summary>
    public ILogger? Log { get; init; }
}
