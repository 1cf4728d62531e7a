using System.Text.Json;
using Flotilla.Cli.Commands;

namespace Flotilla.Server.Tests;

public class ClusterCommandTests
{
    [Fact]
    public async Task StatusShowsEveryMemberWithExactlyOneLeaderAndStopStopsThem()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(3);
        try
        {
            Assert.True(await ClusterFixture.EventuallyAsync(async () => await ClusterFixture.LeaderAsync(cluster) is not null, TimeSpan.FromSeconds(20)));
            var output = new StringWriter();
            var code = await FlotillaCommand.RunAsync(["cluster", "status", "--cluster", cluster.ClusterFilePath, "--json"], output, output);
            Assert.True(code == 0, output.ToString());
            var members = JsonDocument.Parse(output.ToString()).RootElement.EnumerateArray().ToList();
            Assert.Equal(3, members.Count);
            Assert.All(members, m => Assert.True(m.GetProperty("reachable").GetBoolean()));
            Assert.Equal([1, 2, 3], members.Select(m => m.GetProperty("id").GetInt32()).Order());
            Assert.Single(members, m => m.GetProperty("role").GetString() == "Leader");
            Assert.All(members, m => Assert.Equal(cluster.ProcessId(m.GetProperty("id").GetInt32()), m.GetProperty("pid").GetInt32()));

            var stop = await FlotillaCommand.RunAsync(["cluster", "stop", "--cluster", cluster.ClusterFilePath], output, output);
            Assert.Equal(0, stop);
            Assert.True(await ClusterFixture.EventuallyAsync(() => Task.FromResult(cluster.MemberIds.All(id => cluster.ProcessId(id) is null)), TimeSpan.FromSeconds(20)),
                "members still running after 'cluster stop'");
            var after = new StringWriter();
            Assert.Equal(3, await FlotillaCommand.RunAsync(["cluster", "status", "--cluster", cluster.ClusterFilePath], after, after));
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }
}
