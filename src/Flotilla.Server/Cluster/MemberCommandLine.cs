namespace Flotilla.Server.Cluster;

/// <summary>Edits a member's recorded <c>flotilla server</c> command line (cluster.json): a new member's is derived from
/// an existing one's (same executable, secrets, supervisor and extra flags; its own id, ports and directory), and every
/// member's list of members is rewritten when the membership changes, so a restart knows everyone's address.</summary>
public static class MemberCommandLine
{
    /// <summary><paramref name="command"/> with <paramref name="option"/>'s value set to <paramref name="value"/>
    /// (appended when absent; every other argument kept in place).</summary>
    public static IReadOnlyList<string> With(IReadOnlyList<string> command, string option, string value)
    {
        var result = command.ToList();
        var at = result.IndexOf(option);
        if (at >= 0 && at + 1 < result.Count) result[at + 1] = value;
        else
        {
            result.Add(option);
            result.Add(value);
        }
        return result;
    }

    public static string? Value(IReadOnlyList<string> command, string option)
    {
        var at = command.ToList().IndexOf(option);
        return at >= 0 && at + 1 < command.Count ? command[at + 1] : null;
    }

    /// <summary>The command line of <paramref name="member"/>, from <paramref name="template"/> (another member's).</summary>
    public static IReadOnlyList<string> For(IReadOnlyList<string> template, ClusterMember member, IReadOnlyList<ClusterMember> all)
    {
        var command = With(template, "--id", member.Id.ToString());
        command = With(command, "--listen", new Uri(member.Address).Authority);
        command = With(command, "--data", member.DataDirectory!);
        if (member.AdminAddress is { } admin) command = With(command, "--admin-listen", new Uri(admin).Authority);
        if (member.ConsoleAddress is { } console) command = With(command, "--console", new Uri(console).Authority);
        // A restart never bootstraps (the empty-disk rule); the first start of a new member says --initial-state join.
        command = With(command, "--initial-state", "existing");
        return WithMembers(command, all);
    }

    /// <summary><paramref name="command"/> naming exactly <paramref name="all"/> in --members (and --peer-urls if it has them).</summary>
    public static IReadOnlyList<string> WithMembers(IReadOnlyList<string> command, IReadOnlyList<ClusterMember> all)
    {
        var ordered = all.OrderBy(m => m.Id).ToList();
        command = With(command, "--members", string.Join(",", ordered.Select(m => $"{m.Id}={new Uri(m.Address).Authority}")));
        if (Value(command, "--peer-urls") is not null)
            command = With(command, "--peer-urls", string.Join(",", ordered.Select(m => $"{m.Id}={m.PeerAddress}")));
        return command;
    }
}
