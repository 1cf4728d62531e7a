namespace Flotilla.Wal.Snapshots;

/// <summary>What a snapshot file holds, stored in its header so one store's file is never loaded as another's.
/// The values are part of the on-disk format: never renumber them.</summary>
public enum SnapshotKind : byte
{
    /// <summary>A Raft group's snapshot (voters and the service's state), written by WalRaftStorage.</summary>
    RaftGroup = 1,

    /// <summary>The single-node KV server's whole state, written by KvDurableLog.</summary>
    KvStore = 2,
}

/// <summary>A verified snapshot file: header fields and payload, all covered by the checksum.</summary>
public sealed record StoredSnapshot(SnapshotKind Kind, ulong Index, ulong Term, ReadOnlyMemory<byte> Payload);

/// <summary>What a snapshot file's header says, once checked against the file's length: the payload starts at
/// <see cref="SnapshotFormat.HeaderBytes"/> and is <c>PayloadBytes</c> long.</summary>
public sealed record SnapshotHeader(SnapshotKind Kind, ulong Index, ulong Term, long PayloadBytes);
