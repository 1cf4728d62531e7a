using Flotilla.Cli.Nemesis;

namespace Flotilla.Cli.Tests.Nemesis;

/// <summary>The member family's schedule (pure), the membership notation the nemesis reads back, and the shapes of
/// the other faults among members whose ids are no longer 1..n.</summary>
public class MemberFaultsTests
{
    private static readonly FaultKind[] MemberKinds = [FaultKind.ReplaceNode, FaultKind.AddRemove, FaultKind.RemoveAdd, FaultKind.TransferLeader];

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void TheMemberFamilyDrawsEveryKindEachAimedAtOneSlot(int nodes)
    {
        var families = PlannedFault.ParseFamilies("member");
        var drawn = new HashSet<FaultKind>();
        for (var seed = 1; seed <= 40; seed++)
        foreach (var f in NemesisSchedule.Draw(seed, families, nodes, TimeSpan.FromSeconds(30)))
        {
            Assert.Contains(f.Kind, MemberKinds);
            Assert.Equal(FaultFamily.Member, PlannedFault.FamilyOf(f.Kind));
            Assert.False(f.TargetsLeader);
            Assert.InRange(Assert.Single(f.Nodes), 1, nodes);
            drawn.Add(f.Kind);
        }
        Assert.Equal(MemberKinds.Order(), drawn.Order());
    }

    [Fact]
    public void MemberMixesWithOtherFamiliesAndParsesByName()
    {
        Assert.Equal([FaultFamily.Partition, FaultFamily.Member], PlannedFault.ParseFamilies("member, Partition"));
        Assert.Equal("member", PlannedFault.NameOf(FaultFamily.Member));
        Assert.Contains("member", Assert.Throws<FormatException>(() => PlannedFault.ParseFamilies("members")).Message);
        var families = PlannedFault.ParseFamilies("member,kill");
        for (var seed = 1; seed <= 20; seed++)
        {
            var schedule = NemesisSchedule.Draw(seed, families, 3, TimeSpan.FromSeconds(30));
            Assert.Equal(families, schedule.Select(f => PlannedFault.FamilyOf(f.Kind)).Distinct().Order());
        }
    }

    [Fact]
    public void AddingTheMemberFamilyLeavesTheOlderFamiliesSchedulesAlone()
    {
        // The schedule takes the families in enum order before shuffling: with Member last, a seed draws for the older
        // families exactly what it drew before the family existed (the seeds the CI runs and the track record name).
        Assert.Equal(FaultFamily.Member, Enum.GetValues<FaultFamily>().Max());
        Assert.Equal(FaultKind.TransferLeader, Enum.GetValues<FaultKind>().Max());
    }

    [Theory]
    [InlineData(FaultKind.ReplaceNode, "n2 wiped and replaced by a new member")]
    [InlineData(FaultKind.AddRemove, "a new member added, then n2 removed")]
    [InlineData(FaultKind.RemoveAdd, "n2 removed, then a new member added")]
    [InlineData(FaultKind.TransferLeader, "leadership to n2")]
    public void MemberFaultsDescribeTheirChange(FaultKind kind, string what) =>
        Assert.Equal($"{kind} ({what}) at 2.0s for 3.0s", new PlannedFault(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3), kind, [2]).Describe());

    [Theory]
    [InlineData("voters=(1 2 3)", "1 2 3", "", false)]
    [InlineData("voters=(1 2 3) learners=(4)", "1 2 3", "4", false)]
    [InlineData("voters=(2 3 4)&&(1 2 3)", "1 2 3 4", "", true)]
    [InlineData("voters=(2 3)&&(2 3 4) learners=(5) learners_next=(4) autoleave", "2 3 4", "4 5", true)]
    [InlineData("", "", "", false)]
    public void TheMembershipNotationParses(string text, string voters, string learners, bool joint)
    {
        var m = MembershipText.Parse(text);
        Assert.Equal(voters, string.Join(" ", m.Voters));
        Assert.Equal(learners, string.Join(" ", m.Learners));
        Assert.Equal(joint, m.Joint);
    }

    [Fact]
    public void ASettledChangeIsNeitherJointNorHalfWay()
    {
        Assert.True(MembershipText.Parse("voters=(2 3 4)").SettledVoter(4));
        Assert.True(MembershipText.Parse("voters=(2 3 4)").SettledOut(1));
        Assert.False(MembershipText.Parse("voters=(2 3 4)&&(1 2 3)").SettledVoter(4));
        Assert.False(MembershipText.Parse("voters=(2 3 4)&&(1 2 3)").SettledOut(1));
        Assert.False(MembershipText.Parse("voters=(1 2 3) learners=(4)").SettledVoter(4));
        Assert.False(MembershipText.Parse("voters=(1 2 3) learners=(4)").SettledOut(4));
    }

    [Fact]
    public void PartitionsAndSlowNodesSpanTheMembersInForceNotOneToN()
    {
        // n1 was replaced by n4: isolating n2 cuts it from n3 and n4, and nothing involves n1.
        var cuts = PartitionShapes.CutsFor(FaultKind.IsolateNode, [2], [2, 3, 4]);
        Assert.True(cuts.SetEquals([new Cut(2, 3), new Cut(2, 4), new Cut(3, 2), new Cut(4, 2)]), string.Join(" ", cuts));
        Assert.Equal([(4, 2), (2, 4), (4, 3), (3, 4)], RuntimeFaultControl.LinksOf(FaultKind.SlowNode, [4], [2, 3, 4]));
    }

    [Fact]
    public async Task SlotsFollowReplacementsAndIdsAreNeverReused()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"flotilla-nemesis-slots-{Guid.NewGuid():N}");
        await using var cluster = new NemesisCluster(3, directory, new Flotilla.Server.Cluster.FlotillaInvocation("flotilla", []));
        try
        {
            Assert.Equal([1, 2, 3], cluster.Members);
            // A replace: n4 joins, n2 leaves, and slot 2 now means n4.
            var replacement = cluster.NewMemberId();
            cluster.Joined(replacement);
            cluster.Left(2, replacement);
            Assert.Equal(4, replacement);
            Assert.Equal([1, 3, 4], cluster.Members);
            Assert.Equal(4, cluster.MemberAt(2));
            Assert.Equal(2, cluster.SlotOf(4));
            // A remove-add: n1 leaves (its slot waits), n5 joins and takes it.
            cluster.Left(1, null);
            Assert.Equal([3, 4], cluster.Members);
            var fresh = cluster.NewMemberId();
            cluster.Joined(fresh);
            cluster.TakeSlot(1, fresh);
            Assert.Equal([3, 4, 5], cluster.Members);
            Assert.Equal([5, 4, 3], new[] { 1, 2, 3 }.Select(cluster.MemberAt));
            Assert.Null(cluster.SlotOf(1));
            Assert.Equal(6, cluster.NewMemberId());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
