using System.Text.RegularExpressions;

namespace Flotilla.Cli.Nemesis;

/// <summary>A membership as a member reports it (Admin.Status, etcd's notation: <c>voters=(1 2 3)&amp;&amp;(1 2)
/// learners=(4)</c>): the voters, the learners, and whether a joint change is still in force.</summary>
public sealed partial record MembershipText(IReadOnlySet<int> Voters, IReadOnlySet<int> Learners, bool Joint)
{
    public static MembershipText Parse(string text)
    {
        var voters = new SortedSet<int>();
        var learners = new SortedSet<int>();
        var joint = false;
        if (VotersPart().Match(text) is { Success: true } v)
        {
            // "(1 2 3)&&(1 2)": the incoming and outgoing halves of a joint change; a member of either votes.
            joint = v.Groups["outgoing"].Success;
            voters.UnionWith(Ids(v.Value));
        }
        foreach (Match l in LearnersPart().Matches(text)) learners.UnionWith(Ids(l.Groups["ids"].Value));
        return new MembershipText(voters, learners, joint);
    }

    /// <summary>Voter <paramref name="id"/> in a settled (not joint) membership.</summary>
    public bool SettledVoter(int id) => !Joint && Voters.Contains(id);

    /// <summary><paramref name="id"/> neither votes nor learns, and no joint change is in force.</summary>
    public bool SettledOut(int id) => !Joint && !Voters.Contains(id) && !Learners.Contains(id);

    public override string ToString() =>
        $"voters=({string.Join(" ", Voters)}){(Joint ? " (joint)" : "")}{(Learners.Count > 0 ? $" learners=({string.Join(" ", Learners)})" : "")}";

    private static IEnumerable<int> Ids(string value) => IdPattern().Matches(value).Select(m => int.Parse(m.Value));

    [GeneratedRegex(@"voters=\([0-9 ]*\)(?<outgoing>&&\([0-9 ]*\))?")]
    private static partial Regex VotersPart();

    [GeneratedRegex(@"learners(_next)?=\((?<ids>[0-9 ]*)\)")]
    private static partial Regex LearnersPart();

    [GeneratedRegex("[0-9]+")]
    private static partial Regex IdPattern();
}
