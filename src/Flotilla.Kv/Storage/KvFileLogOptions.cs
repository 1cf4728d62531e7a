namespace Flotilla.Kv.Storage;

public sealed record KvFileLogOptions
{
    /// <summary>Directory (inside the node's file system) holding the snapshot and the log.</summary>
    public string Directory { get; init; } = "kv";

    /// <summary>When the log grows past this, the state is written as a snapshot and a fresh log is started, so
    /// restart time and disk use are bounded by the data, not by the number of puts ever made.</summary>
    public long CompactAfterBytes { get; init; } = 64L * 1024 * 1024;
}
