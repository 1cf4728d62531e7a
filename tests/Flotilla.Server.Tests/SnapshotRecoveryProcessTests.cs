using System.Diagnostics;
using Flotilla.Cli.Infrastructure;
using Flotilla.Kv.Client;
using Xunit.Abstractions;

namespace Flotilla.Server.Tests;

/// <summary>
/// A member's Raft snapshot file seen from outside, through the real <c>flotilla server</c> process: a byte flipped
/// in the middle, a truncated file, a deleted file and a directory in its place each make the member refuse to start
/// (exit 4, one line naming the file) instead of loading damaged state or starting without the compacted log; the
/// undamaged directory restarts with every acknowledged put.
/// </summary>
public class SnapshotRecoveryProcessTests(ITestOutputHelper output)
{
    private const int Puts = 40;

    public enum Damage { FlipMiddleByte, Truncate, Delete, ReplaceWithDirectory }

    [Fact]
    public async Task MemberRefusesToStartOnADamagedOrMissingRaftSnapshotWithExitCode4AndOneLine()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(1, ["--snapshot-threshold", "4096"]);
        try
        {
            var client = Client(cluster, out var channel);
            using (channel)
            {
                for (var i = 0; i < Puts; i++)
                    Assert.Equal(KvStatus.Ok, (await client.PutAsync(Key(i), Value(i), 0)).Status);
            }
            Assert.True(await ClusterFixture.EventuallyAsync(async () => (await cluster.StatusAsync(TimeSpan.FromSeconds(1)))[1]?.SnapshotIndex > 0,
                TimeSpan.FromSeconds(30)), "the member never took a snapshot");
            var address = new Uri(cluster.Addresses[1]).Authority;
            await cluster.StopAsync();

            var data = cluster.DataDirectory(1);
            var snapshot = Directory.GetFiles(data, "snapshot", SearchOption.AllDirectories).Single(f => f.Contains("raft", StringComparison.Ordinal));
            var relative = Path.GetRelativePath(data, snapshot).Replace('\\', '/');
            var pristine = await File.ReadAllBytesAsync(snapshot);
            output.WriteLine($"{relative}: {pristine.Length} bytes");

            foreach (var damage in Enum.GetValues<Damage>())
            {
                Apply(damage, snapshot, pristine);
                var (code, line) = await RunRefusedAsync(address, data);
                output.WriteLine($"{damage}: exit {code}: {line}");
                Assert.Equal(ExitCodes.BadInput, code);
                Assert.StartsWith("flotilla: error: refusing to start:", line);
                Assert.Contains(relative, line);
                if (damage is Damage.FlipMiddleByte) Assert.Contains("checksum mismatch", line);
                if (damage is Damage.Truncate) Assert.Contains($"at byte {pristine.Length / 2}: truncated", line);
                if (damage is Damage.Delete) Assert.Contains("missing, but the WAL says the snapshot at index", line);
                if (damage is Damage.ReplaceWithDirectory) Assert.Contains("is it a directory?", line);
                Restore(snapshot, pristine);
            }

            // The control: the same directory, undamaged, serves every acknowledged put.
            cluster.Launch(1);
            await cluster.WaitReadyAsync(TimeSpan.FromSeconds(30));
            var after = Client(cluster, out var channel2);
            using (channel2)
            {
                for (var i = 0; i < Puts; i++)
                {
                    var got = await after.GetAsync(Key(i));
                    Assert.True(got.IsOk, $"{Key(i)}: {got.Status}");
                    Assert.Equal((Value(i), 1UL), (got.Value, got.Version));
                }
            }
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }

    private static void Apply(Damage damage, string snapshot, byte[] pristine)
    {
        switch (damage)
        {
            case Damage.FlipMiddleByte:
                var flipped = pristine.ToArray();
                flipped[flipped.Length / 2] ^= 0x01;
                File.WriteAllBytes(snapshot, flipped);
                break;
            case Damage.Truncate:
                File.WriteAllBytes(snapshot, pristine[..(pristine.Length / 2)]);
                break;
            case Damage.Delete:
                File.Delete(snapshot);
                break;
            case Damage.ReplaceWithDirectory:
                File.Delete(snapshot);
                Directory.CreateDirectory(snapshot);
                break;
        }
    }

    private static void Restore(string snapshot, byte[] pristine)
    {
        if (Directory.Exists(snapshot)) Directory.Delete(snapshot, recursive: true);
        File.WriteAllBytes(snapshot, pristine);
    }

    /// <summary>Runs <c>flotilla server</c> on the directory and expects it to exit (with a deadline) rather than serve.</summary>
    private static async Task<(int ExitCode, string Line)> RunRefusedAsync(string address, string data)
    {
        var self = SelfInvocation.Current();
        var start = new ProcessStartInfo(self.FileName) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in self.Prefix) start.ArgumentList.Add(a);
        foreach (var a in new[] { "server", "--id", "1", "--listen", address, "--members", $"1={address}", "--data", data })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("flotilla server started on a damaged snapshot instead of refusing");
        }
        _ = await stdout;
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return (process.ExitCode, Assert.Single(lines));
    }

    private static string Key(int i) => $"snap-key-{i}";
    private static string Value(int i) => $"value-{i}-" + new string('x', 200);

    private static KvClient Client(Flotilla.Server.Cluster.LocalCluster cluster, out GrpcKvChannel channel)
    {
        channel = new GrpcKvChannel(cluster.File.Endpoints.Select(GrpcKvChannel.ParseEndpoint).ToList());
        return new KvClient(channel, TimeProvider.System, new Random(1), new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(20) });
    }
}
