using Flotilla.Server.Cluster;

namespace Flotilla.Server.Tests;

/// <summary>
/// A member that lost its disk (kill -9, data directory wiped) must not come back under its old id: restarted, it
/// refuses to start with a one-line error naming <c>cluster replace</c> (etcd issues 10166, 16220). <c>cluster
/// replace</c> brings in a new member under a new id through one joint change; under client load throughout, the
/// history is linearizable and no acknowledged write is lost.
/// </summary>
public class ClusterReplaceTests
{
    [Fact]
    public async Task AMemberThatLostItsDiskIsRefusedUnderItsOldIdAndReplacedUnderANewOne()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(3);
        try
        {
            await using var load = new KvLoad(cluster.File.Endpoints);
            await load.ProgressAsync(20, "before the crash");

            var victim = cluster.MemberIds.First(id => id != 1);
            cluster.Kill(victim);
            var data = cluster.DataDirectory(victim);
            Directory.Delete(data, recursive: true);
            Directory.CreateDirectory(data); // the disk is back, empty
            await load.ProgressAsync(10, $"with n{victim} down");

            var (code, text) = await ClusterMembershipTests.RunAsync("cluster", "restart", victim.ToString(), "--cluster", cluster.ClusterFilePath);
            Assert.Equal(1, code);
            Assert.Single(text.Trim().Split('\n'));
            Assert.Contains("holds no Raft state", text);
            Assert.Contains($"flotilla cluster replace {victim}", text);
            Assert.False(Membership.EmptyDiskRule.HasRaftState(data), "the refused member wrote Raft state");

            (code, text) = await ClusterMembershipTests.RunAsync("cluster", "replace", victim.ToString(), "--cluster", cluster.ClusterFilePath);
            Assert.True(code == 0, text);
            Assert.StartsWith($"replaced n{victim} by n4 ", text);
            var expected = new[] { 1, 2, 3, 4 }.Where(id => id != victim).ToList();
            Assert.Equal(expected, ClusterFile.Load(cluster.ClusterFilePath).Members.Select(m => m.Id));
            Assert.True(await ClusterFixture.EventuallyAsync(async () =>
                (await cluster.StatusAsync(TimeSpan.FromSeconds(2))).Values.All(s => s is { MemberRole: "voter", Joint: false } && s.Membership == $"voters=({string.Join(' ', expected)})"),
                TimeSpan.FromSeconds(20)), "the members do not agree on the new membership");
            await load.ProgressAsync(10, "after the replacement");

            // The new member is a voter that holds the data: with the other original member down, writes go on.
            var leader = await ClusterFixture.LeaderAsync(cluster) ?? 0;
            var other = expected.First(id => id != 4 && id != leader);
            cluster.Kill(other);
            await load.ProgressAsync(10, $"with n{other} down (n4 must vote)");
            cluster.Launch(other);
            await cluster.WaitReadyAsync(TimeSpan.FromSeconds(30));

            await load.StopAndCheckAsync(ClusterFile.Load(cluster.ClusterFilePath).Endpoints, directory);
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }
}
