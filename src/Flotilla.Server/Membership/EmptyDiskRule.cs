namespace Flotilla.Server.Membership;

/// <summary>
/// The empty-disk rule (docs/raft.md "Membership"): a server whose data directory holds no Raft state may start only
/// as the first start of a brand-new cluster or as a new member joining one. A member that lost its disk and comes
/// back under its old id would vote with an empty log and could help elect a leader that lacks committed entries
/// (etcd issues 10166, 16220), so it is refused: the way back is a new member under a new id (<c>cluster replace</c>).
/// </summary>
public static class EmptyDiskRule
{
    /// <summary>True when <paramref name="dataDirectory"/> holds Raft state (any file under raft/).</summary>
    public static bool HasRaftState(string dataDirectory)
    {
        var raft = Path.Combine(dataDirectory, "raft");
        return Directory.Exists(raft) && Directory.EnumerateFiles(raft, "*", SearchOption.AllDirectories).Any();
    }

    /// <summary>Throws <see cref="ServerStartRefusedException"/> (one line) when the rule forbids this start.</summary>
    public static void Check(ServerOptions options)
    {
        if (options.StartMode != ServerStartMode.Existing || HasRaftState(options.DataDirectory)) return;
        throw new ServerStartRefusedException(
            $"refusing to start: {options.DataDirectory} holds no Raft state, and member {options.Id.Value} belongs to an existing cluster " +
            $"(it lost its disk?); a member id is never reused: replace it with 'flotilla cluster replace {options.Id.Value} --cluster FILE'");
    }
}

/// <summary>A start the server refuses before it touches anything (the empty-disk rule); the message is one line.</summary>
public sealed class ServerStartRefusedException(string message) : Exception(message);
