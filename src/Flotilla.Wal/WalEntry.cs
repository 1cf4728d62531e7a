namespace Flotilla.Wal;

/// <summary>One Raft log entry as the WAL stores it: its position, the term it was created in, and opaque bytes.</summary>
public readonly record struct WalEntry(ulong Index, ulong Term, ReadOnlyMemory<byte> Data);
