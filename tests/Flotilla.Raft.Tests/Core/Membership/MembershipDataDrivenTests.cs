using Flotilla.Runtime;

namespace Flotilla.Raft.Tests.Core.Membership;

/// <summary>
/// The membership model driven by testdata/*.txt (etcd's confchange and quorum test files, our notation):
/// changes are <c>v1</c> (make 1 a voter), <c>l1</c> (make 1 a learner), <c>r1</c> (remove 1); configs print as
/// <c>voters=(incoming)&amp;&amp;(outgoing) learners=(..) learners_next=(..) autoleave</c>.
/// </summary>
public sealed class MembershipDataDrivenTests
{
    [Theory]
    [InlineData("confchange_simple.txt")]
    [InlineData("confchange_joint.txt")]
    [InlineData("confchange_errors.txt")]
    public void ConfChanges(string file)
    {
        // Every file starts from the empty config, as etcd's do, and grows it with its own commands.
        var config = MembershipConfig.FromVoters([]);
        DataDriven.Run(file, command =>
        {
            var changes = DataDriven.Words(command, out var options).Select(ParseChange).ToList();
            var result = command.Split(' ')[0] switch
            {
                "simple" => MembershipChanger.Simple(config, changes),
                "enter-joint" => MembershipChanger.EnterJoint(config, options.GetValueOrDefault("autoleave") == "true", changes),
                "leave-joint" => MembershipChanger.LeaveJoint(config),
                "apply" => MembershipChanger.Apply(config, new ConfChange(ParseTransition(options.GetValueOrDefault("transition", "auto")), changes)),
                var other => throw new InvalidDataException($"unknown command {other}"),
            };
            if (!result.Ok) return $"error: {result.Error}";
            config = result.Config!;
            return config.ToString();
        });
    }

    [Fact]
    public void QuorumMath() =>
        DataDriven.Run("quorum.txt", command =>
        {
            DataDriven.Words(command, out var options);
            var voters = new JointConfig(ParseIds(options["voters"]), options.TryGetValue("outgoing", out var o) ? ParseIds(o) : MajorityConfig.Empty);
            switch (command.Split(' ')[0])
            {
                case "committed":
                    var acked = ParsePairs(options.GetValueOrDefault("acked", "")).ToDictionary(p => p.Id, p => ulong.Parse(p.Value));
                    var index = voters.CommittedIndex(id => acked.GetValueOrDefault(id));
                    return index == ulong.MaxValue ? "∞" : index.ToString();
                case "vote":
                    var votes = ParsePairs(options.GetValueOrDefault("votes", "")).ToDictionary(p => p.Id, p => p.Value == "y");
                    return voters.Tally(id => votes.TryGetValue(id, out var v) ? v : null).ToString().ToLowerInvariant();
                default:
                    throw new InvalidDataException($"unknown command {command}");
            }
        });

    private static ConfChangeSingle ParseChange(string word)
    {
        var id = new NodeId(int.Parse(word[1..]));
        return word[0] switch
        {
            'v' => new ConfChangeSingle(ConfChangeType.AddVoter, id),
            'l' => new ConfChangeSingle(ConfChangeType.AddLearner, id),
            'r' => new ConfChangeSingle(ConfChangeType.Remove, id),
            _ => throw new InvalidDataException($"unknown change {word}"),
        };
    }

    private static ConfChangeTransition ParseTransition(string name) => name switch
    {
        "auto" => ConfChangeTransition.Auto,
        "implicit" => ConfChangeTransition.JointImplicit,
        "explicit" => ConfChangeTransition.JointExplicit,
        _ => throw new InvalidDataException($"unknown transition {name}"),
    };

    private static MajorityConfig ParseIds(string list) =>
        new(list.Trim('(', ')').Split(',', ' ', StringSplitOptions.RemoveEmptyEntries).Select(s => new NodeId(int.Parse(s))));

    private static IEnumerable<(NodeId Id, string Value)> ParsePairs(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split(':')).Select(p => (new NodeId(int.Parse(p[0])), p[1]));
}
