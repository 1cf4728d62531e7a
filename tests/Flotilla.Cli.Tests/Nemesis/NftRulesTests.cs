using Flotilla.Cli.Nemesis;

namespace Flotilla.Cli.Tests.Nemesis;

public class NftRulesTests
{
    private static string Rules(int node, IEnumerable<Cut> cuts, int loss = 0) => NftRules.For(node, cuts, loss, NetnsTopology.Address);

    [Fact]
    public void NoFaultFlushesTheRulesetAndAddsNothing() =>
        Assert.Equal("flush ruleset\n", Rules(1, []));

    [Fact]
    public void AnIsolatedNodeDropsEveryPeerAndEveryPeerDropsIt()
    {
        var cuts = PartitionShapes.CutsFor(FaultKind.IsolateNode, [2], 3);
        Assert.Equal(
            "flush ruleset\ntable inet flotilla_nemesis {\n  chain input {\n    type filter hook input priority 0; policy accept;\n" +
            "    ip saddr { 10.77.0.1, 10.77.0.3 } drop\n  }\n}\n", Rules(2, cuts));
        Assert.Contains("ip saddr { 10.77.0.2 } drop", Rules(1, cuts));
        Assert.Contains("ip saddr { 10.77.0.2 } drop", Rules(3, cuts));
        // Clients (the bridge address) are never cut.
        Assert.DoesNotContain(NetnsTopology.HostAddress, Rules(2, cuts));
    }

    [Fact]
    public void AOneWayCutDropsOnlyWhatTheNodeSends()
    {
        var cuts = PartitionShapes.CutsFor(FaultKind.OneWayCut, [1], 3);
        Assert.Equal(new HashSet<Cut> { new(1, 2), new(1, 3) }, cuts);
        Assert.Equal("flush ruleset\n", Rules(1, cuts));
        Assert.Contains("ip saddr { 10.77.0.1 } drop", Rules(2, cuts));
    }

    [Fact]
    public void ABridgeNodeTalksToBothSidesWhichCannotTalkToEachOther()
    {
        var cuts = PartitionShapes.CutsFor(FaultKind.BridgePartition, [3, 1, 2, 4, 5], 5);
        Assert.DoesNotContain(cuts, c => c.From == 3 || c.To == 3);
        Assert.Equal(new HashSet<Cut> { new(1, 4), new(1, 5), new(2, 4), new(2, 5), new(4, 1), new(5, 1), new(4, 2), new(5, 2) }, cuts);
        Assert.Equal("flush ruleset\n", Rules(3, cuts));
        Assert.Contains("ip saddr { 10.77.0.4, 10.77.0.5 } drop", Rules(1, cuts));
    }

    [Fact]
    public void AMajoritySplitCutsBothWaysAcrossTheSides()
    {
        var cuts = PartitionShapes.CutsFor(FaultKind.SplitMajority, [1, 4], 5);
        Assert.Equal(12, cuts.Count);
        Assert.Contains("ip saddr { 10.77.0.2, 10.77.0.3, 10.77.0.5 } drop", Rules(4, cuts));
        Assert.Contains("ip saddr { 10.77.0.1, 10.77.0.4 } drop", Rules(5, cuts));
    }

    [Fact]
    public void LossIsARandomDropOfThatShareAndNeverAllPackets()
    {
        Assert.Contains("    numgen random mod 100 < 25 drop\n", Rules(1, [], 25));
        // nft refuses "< 100" (the value must be 0-99); 100% loss is a partition anyway.
        Assert.Contains("numgen random mod 100 < 99 drop", Rules(1, [], 100));
        var both = Rules(2, PartitionShapes.CutsFor(FaultKind.IsolateNode, [1], 3), 10);
        Assert.Contains("ip saddr { 10.77.0.1 } drop", both);
        Assert.Contains("numgen random mod 100 < 10 drop", both);
    }
}
