using Flotilla.Cli.Nemesis;

namespace Flotilla.Cli.Tests.Nemesis;

public class NemesisScheduleTests
{
    private static readonly FaultFamily[] Every = Enum.GetValues<FaultFamily>();

    [Fact]
    public void TheSameSeedDrawsTheSameSchedule()
    {
        for (var seed = 1; seed <= 20; seed++)
            Assert.Equal(NemesisSchedule.Draw(seed, Every, 5, TimeSpan.FromSeconds(60)).Select(f => f.Describe()),
                NemesisSchedule.Draw(seed, Every, 5, TimeSpan.FromSeconds(60)).Select(f => f.Describe()));
    }

    [Fact]
    public void DifferentSeedsDrawDifferentSchedules()
    {
        var schedules = Enumerable.Range(1, 20)
            .Select(seed => string.Join("|", NemesisSchedule.Draw(seed, Every, 3, TimeSpan.FromSeconds(60)).Select(f => f.Describe()))).ToHashSet();
        Assert.True(schedules.Count >= 19, $"only {schedules.Count} distinct schedules from 20 seeds");
    }

    [Theory]
    [InlineData("partition", 3)]
    [InlineData("pause,kill", 3)]
    [InlineData("loss,disk", 5)]
    [InlineData("partition,pause,kill,loss,disk", 5)]
    [InlineData("move,partition,kill", 3)]
    [InlineData("latency,disk-full,clock", 3)]
    [InlineData("latency,full,clock,partition,kill", 5)]
    public void OnlyTheAskedFamiliesAppearAndEachAppears(string faults, int nodes)
    {
        var families = PlannedFault.ParseFamilies(faults);
        for (var seed = 1; seed <= 30; seed++)
        {
            var schedule = NemesisSchedule.Draw(seed, families, nodes, TimeSpan.FromSeconds(60));
            Assert.All(schedule, f => Assert.Contains(PlannedFault.FamilyOf(f.Kind), families));
            Assert.Equal(families.Order(), schedule.Select(f => PlannedFault.FamilyOf(f.Kind)).Distinct().Order());
        }
    }

    [Fact]
    public void FaultsDoNotOverlapStayInsideTheRunAndTheLastLastsToTheEnd()
    {
        for (var seed = 1; seed <= 50; seed++)
        {
            var duration = TimeSpan.FromSeconds(10 + seed % 40);
            var schedule = NemesisSchedule.Draw(seed, Every, 3, duration);
            Assert.NotEmpty(schedule);
            Assert.True(schedule[0].At >= NemesisSchedule.Warmup);
            foreach (var (a, b) in schedule.Zip(schedule.Skip(1))) Assert.True(a.End + NemesisSchedule.GapMin <= b.At, $"seed {seed}: {a.Describe()} overlaps {b.Describe()}");
            Assert.Equal(duration, schedule[^1].End);
            Assert.All(schedule, f => Assert.True(f.Duration >= NemesisSchedule.FaultMin || f == schedule[^1], f.Describe()));
        }
    }

    [Fact]
    public void TargetsAreMembersAndLeaderAndMoveFaultsNameNoNode()
    {
        for (var seed = 1; seed <= 50; seed++)
        foreach (var f in NemesisSchedule.Draw(seed, Every, 5, TimeSpan.FromSeconds(60)))
        {
            Assert.All(f.Nodes, n => Assert.InRange(n, 1, 5));
            if (f.TargetsLeader) Assert.Empty(f.Nodes);
            else if (f.Kind == FaultKind.MoveShards)
            {
                // Moves name shards, drawn from the live configuration when the fault starts; never nodes.
                Assert.Empty(f.Nodes);
                Assert.InRange(f.Amount, 1, 3);
            }
            else Assert.NotEmpty(f.Nodes);
            if (f.Kind == FaultKind.SplitMajority) Assert.InRange(f.Nodes.Count, 1, 2);
            if (f.Kind == FaultKind.PacketLoss) Assert.InRange(f.Amount, 10, 40);
            if (f.Kind == FaultKind.SlowFsync) Assert.InRange(f.Amount, 50, 300);
            if (f.Kind == FaultKind.FailingFsync) Assert.InRange(f.Amount, 5, 20);
            if (f.Kind is FaultKind.SlowLink or FaultKind.SlowNode)
            {
                Assert.InRange(f.Amount, 50, 400);
                Assert.Equal(f.Amount / 4, f.Jitter);
                Assert.Equal(f.Kind == FaultKind.SlowLink ? 2 : 1, f.Nodes.Distinct().Count());
            }
            if (f.Kind == FaultKind.ClockRate) Assert.Contains(f.Amount, new[] { 25, 50, 200, 400 });
            if (f.Kind == FaultKind.ClockJump) Assert.InRange(f.Amount, 500, 5000);
            if (f.Kind is FaultKind.DiskFullNode or FaultKind.DiskFullLeader) Assert.Equal(f.Kind == FaultKind.DiskFullLeader, f.TargetsLeader);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("partition,flood")]
    [InlineData("1")]
    public void UnknownFaultFamiliesAreRefused(string text) =>
        Assert.Throws<FormatException>(() => PlannedFault.ParseFamilies(text));

    [Theory]
    [InlineData("latency,disk-full,clock")]
    [InlineData("Clock, FULL ,latency")]
    [InlineData("disk-full,full,latency,clock,latency")]
    public void TheNewFamiliesParseWithDiskFullUnderBothNames(string text) =>
        Assert.Equal([FaultFamily.Latency, FaultFamily.DiskFull, FaultFamily.Clock], PlannedFault.ParseFamilies(text));

    [Fact]
    public void DiskFullIsNamedDiskFullAndItsEnumNameIsNotAccepted()
    {
        Assert.Equal("disk-full", PlannedFault.NameOf(FaultFamily.DiskFull));
        Assert.Equal("latency", PlannedFault.NameOf(FaultFamily.Latency));
        Assert.Throws<FormatException>(() => PlannedFault.ParseFamilies("diskfull"));
        Assert.Contains("disk-full", Assert.Throws<FormatException>(() => PlannedFault.ParseFamilies("slow")).Message);
    }

    [Fact]
    public void EveryKindBelongsToAFamilyAndTheNewOnesToTheirs()
    {
        Assert.All(Enum.GetValues<FaultKind>(), k => Assert.True(Enum.IsDefined(PlannedFault.FamilyOf(k))));
        Assert.Equal(FaultFamily.Latency, PlannedFault.FamilyOf(FaultKind.SlowNode));
        Assert.Equal(FaultFamily.DiskFull, PlannedFault.FamilyOf(FaultKind.DiskFullLeader));
        Assert.Equal(FaultFamily.Clock, PlannedFault.FamilyOf(FaultKind.ClockJump));
        Assert.Equal(FaultFamily.Disk, PlannedFault.FamilyOf(FaultKind.SlowFsync));
    }

    [Fact]
    public void FamiliesParseInAnyCaseAndOrder() =>
        Assert.Equal([FaultFamily.Partition, FaultFamily.Kill, FaultFamily.Loss], PlannedFault.ParseFamilies(" Loss,kill,PARTITION,kill "));
}
