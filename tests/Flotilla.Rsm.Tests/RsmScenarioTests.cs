using Flotilla.Rsm.Tests.Support;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Rsm.Tests;

/// <summary>
/// The 6.5840 RSM scenarios (lab 4A/4C) in simulation, several seeds each (FLOTILLA_SEEDS=N for more,
/// FLOTILLA_SEED=S to replay one).
/// </summary>
public class RsmScenarioTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    [Fact]
    public void BasicSubmitsApplyInOrderOnEveryReplica() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        var c = new RsmCluster(sim, 3);
        for (var i = 0; i < 10; i++) Assert.Equal(i, await c.SubmitToLeaderAsync($"c{i}"));
        await c.CheckAgreementAsync(10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"c{i}"), c.ServiceOf(1)!.Log);
    }, Limit));

    [Fact]
    public void ConcurrentSubmitsAreLinearizableAppends() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        var c = new RsmCluster(sim, 3);
        var done = new List<(string Command, TimeSpan Call, TimeSpan Return, long Position)>();
        var clients = Enumerable.Range(0, 5).Select(async client =>
        {
            for (var k = 0; k < 20; k++)
            {
                var command = $"client{client}-{k}";
                var call = sim.Now;
                var position = await c.SubmitToLeaderAsync(command);
                done.Add((command, call, sim.Now, position));
            }
        }).ToList();
        foreach (var client in clients) await client;
        await c.CheckAgreementAsync(100);
        var log = c.ServiceOf(1)!.Log;
        // Linearizable appends: each command sits where its submit said, once, and real-time order is log order.
        Assert.Equal(100, done.Select(d => d.Position).Distinct().Count());
        foreach (var d in done) Assert.Equal(d.Command, log[(int)d.Position]);
        foreach (var a in done)
        foreach (var b in done)
            if (a.Return < b.Call) Assert.True(a.Position < b.Position, $"{a.Command} returned before {b.Command} was submitted but sits after it");
    }, Limit));

    [Fact]
    public void LeaderFailureNewLeaderServesAndOldOneCatchesUp() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        var c = new RsmCluster(sim, 3);
        await c.SubmitToLeaderAsync("a");
        var leader = await c.WaitLeaderAsync();
        sim.Network.Disconnect(new NodeId(leader));
        var newLeader = await c.WaitLeaderAsync(i => i != leader);
        Assert.NotEqual(leader, newLeader);
        Assert.Equal(1, await c.SubmitToLeaderAsync("b"));
        Assert.Equal(2, await c.SubmitToLeaderAsync("c"));
        sim.Network.Connect(new NodeId(leader));
        await c.CheckAgreementAsync(3);
    }, Limit));

    [Fact]
    public void LeaderInMinorityPartitionNeverSucceedsAndReturnsOnceHealed() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        var c = new RsmCluster(sim, 5);
        await c.SubmitToLeaderAsync("before");
        var leader = await c.WaitLeaderAsync();
        var minority = new[] { leader, leader % 5 + 1 };
        var majority = c.All.Except(minority).ToArray();
        c.Partition(minority, majority);
        var stranded = Enumerable.Range(0, 5).Select(k => c.SubmitAsync(leader, $"stranded{k}")).ToList();
        // The old leader cannot confirm reads either.
        var read = await sim.Node(leader).InvokeAsync(() => c.Rsm(leader)!.ReadAsync(() => c.ServiceOf(leader)!.Count));
        Assert.False(read.IsOk, $"a minority leader served a read: {read}");
        await c.WaitLeaderAsync(i => majority.Contains(i));
        Assert.Equal(1, await c.SubmitToLeaderAsync("majority1", among: majority.Contains));
        Assert.Equal(2, await c.SubmitToLeaderAsync("majority2", among: majority.Contains));
        Assert.DoesNotContain(stranded, t => t.IsCompletedSuccessfully && t.Result is { IsOk: true });
        sim.Network.Heal();
        var healedAt = sim.Now;
        foreach (var t in stranded)
        {
            var result = await t;
            Assert.NotNull(result);
            Assert.False(result.Value.IsOk, $"a submit in the minority succeeded: {result}");
        }
        Assert.True(sim.Now - healedAt < TimeSpan.FromSeconds(10), "stranded submits did not return after healing");
        await c.CheckAgreementAsync(3);
        Assert.DoesNotContain(c.ServiceOf(1)!.Log, s => s.StartsWith("stranded", StringComparison.Ordinal));
    }, Limit));

    [Fact]
    public void RestartReplaysTheCommittedLog() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        var c = new RsmCluster(sim, 3);
        for (var i = 0; i < 20; i++) await c.SubmitToLeaderAsync($"c{i}");
        await c.CheckAgreementAsync(20);
        foreach (var i in c.All) sim.Node(i).Crash();
        await c.SleepMs(100);
        foreach (var i in c.All) sim.Node(i).Start();
        // Nothing new is submitted: the replicas rebuild their state from their own logs once the new leader commits.
        await c.CheckAgreementAsync(20);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"c{i}"), c.ServiceOf(2)!.Log);
        Assert.Equal(20, await c.SubmitToLeaderAsync("after"));
    }, Limit));

    [Fact]
    public void ShutdownUnblocksEveryPendingSubmit() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        var c = new RsmCluster(sim, 3);
        await c.SubmitToLeaderAsync("a");
        var leader = await c.WaitLeaderAsync();
        sim.Network.Disconnect(new NodeId(leader)); // its submits can never commit now
        var node = sim.Node(leader);
        var pending = await node.InvokeAsync(() => Enumerable.Range(0, 5)
            .Select(k => c.Rsm(leader)!.SubmitAsync(System.Text.Encoding.UTF8.GetBytes($"p{k}"))).ToList());
        await c.SleepMs(20);
        Assert.All(pending, t => Assert.False(t.IsCompleted));
        await node.InvokeAsync(() => c.Rsm(leader)!.StopAsync());
        Assert.All(pending, t => Assert.Equal(SubmitStatus.Stopped, t.Result.Status));
        var late = await node.InvokeAsync(() => c.Rsm(leader)!.SubmitAsync(new byte[] { 1 }));
        Assert.Equal(SubmitStatus.Stopped, late.Status);
    }, Limit));

    [Fact]
    public void SubmitRightAfterRestartOfAllServers() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        var c = new RsmCluster(sim, 3);
        for (var i = 0; i < 5; i++) await c.SubmitToLeaderAsync($"c{i}");
        foreach (var i in c.All) sim.Node(i).Restart();
        Assert.Equal(5, await c.SubmitToLeaderAsync("after-restart"));
        foreach (var i in c.All) sim.Node(i).Restart();
        Assert.Equal(6, await c.SubmitToLeaderAsync("after-second-restart"));
        await c.CheckAgreementAsync(7);
    }, Limit));

    [Fact]
    public void SnapshotsKeepPersistedStateBoundedAndRestoreOnRestart() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        const long threshold = 4096;
        var c = new RsmCluster(sim, 3, snapshotThresholdBytes: threshold, keepLog: false);
        for (var i = 0; i < 300; i++)
        {
            await c.SubmitToLeaderAsync($"command-{i:D5}-{new string('x', 30)}");
            var size = c.MaxPersistedBytes();
            Assert.True(size <= 8 * threshold, $"persisted Raft state is {size} bytes after {i + 1} commands, over 8x the {threshold} threshold");
        }
        await c.CheckAgreementAsync(300);
        Assert.All(c.All, i => Assert.True(c.Rsm(i)!.SnapshotsTaken > 0, $"server {i} never snapshotted"));
        foreach (var i in c.All) sim.Node(i).Restart();
        await c.CheckAgreementAsync(300);
        Assert.All(c.All, i => Assert.True(c.ServiceOf(i)!.Restores > 0, $"server {i} did not restore its snapshot"));
        Assert.Equal(300, await c.SubmitToLeaderAsync("after"));
    }, Limit));

    [Fact]
    public void LaggingReplicaCatchesUpThroughInstalledSnapshot() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        var c = new RsmCluster(sim, 3, snapshotThresholdBytes: 4096, keepLog: false);
        await c.SubmitToLeaderAsync("first");
        var leader = await c.WaitLeaderAsync();
        var lagging = leader % 3 + 1;
        sim.Network.Disconnect(new NodeId(lagging));
        for (var i = 0; i < 200; i++) await c.SubmitToLeaderAsync($"command-{i:D5}-{new string('y', 30)}");
        sim.Network.Connect(new NodeId(lagging));
        await c.CheckAgreementAsync(201);
        Assert.True(c.Rsm(lagging)!.SnapshotsRestored > 0, "the lagging replica caught up without a snapshot: the log was never trimmed");
    }, Limit));

    [Fact]
    public void AServiceThatStreamsItsSnapshotsNeverGoesThroughOneByteArray() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        // The service writes its state field by field into the snapshot file and rebuilds it as it reads (it throws if
        // asked for bytes): snapshots, a lagging replica's install from the leader's file, and restarts all stream.
        var c = new RsmCluster(sim, 3, snapshotThresholdBytes: 4096, streaming: true);
        await c.SubmitToLeaderAsync("first");
        var leader = await c.WaitLeaderAsync();
        var lagging = leader % 3 + 1;
        sim.Network.Disconnect(new NodeId(lagging));
        for (var i = 0; i < 200; i++) await c.SubmitToLeaderAsync($"command-{i:D5}-{new string('z', 30)}");
        sim.Network.Connect(new NodeId(lagging));
        await c.CheckAgreementAsync(201);
        Assert.True(c.Rsm(lagging)!.SnapshotsRestored > 0, "the lagging replica caught up without a snapshot");
        Assert.True(c.ServiceOf(leader)!.StreamedSnapshots > 0, "the leader never streamed a snapshot");
        Assert.Equal(201, c.ServiceOf(lagging)!.Log.Count); // the whole log came through the stream
        foreach (var i in c.All) sim.Node(i).Restart();
        await c.CheckAgreementAsync(201);
        Assert.All(c.All, i => Assert.True(c.ServiceOf(i)!.Restores > 0, $"server {i} did not restore its snapshot"));
        Assert.Equal(201, await c.SubmitToLeaderAsync("after"));
    }, Limit));

    [Fact]
    public void ReadsOnTheLeaderSeeEveryAppliedSubmitAndFollowersRefuse() => SeedRunner.ForSeeds(3, sim => sim.RunTest(async () =>
    {
        var c = new RsmCluster(sim, 3);
        for (var i = 0; i < 5; i++)
        {
            var position = await c.SubmitToLeaderAsync($"c{i}");
            var leader = await c.WaitLeaderAsync();
            var read = await sim.Node(leader).InvokeAsync(() => c.Rsm(leader)!.ReadAsync(() => c.ServiceOf(leader)!.Count));
            Assert.True(read.IsOk, $"leader read failed: {read}");
            Assert.True(read.Value > position, $"read saw {read.Value} commands after command {position} completed");
            var follower = leader % 3 + 1;
            var refused = await sim.Node(follower).InvokeAsync(() => c.Rsm(follower)!.ReadAsync(() => 0L));
            Assert.Equal(ReadStatus.NotLeader, refused.Status);
        }
    }, Limit));
}
