using System.Diagnostics;
using Flotilla.Cli.Infrastructure;
using Flotilla.Kv.Client;
using Flotilla.Runtime.Storage;
using Flotilla.Wal;
using Xunit.Abstractions;

namespace Flotilla.Server.Tests;

/// <summary>
/// The Raft WAL's crash recovery seen from outside, through the real <c>flotilla server</c> process: a torn tail
/// (a write cut short by a crash) is dropped and every acknowledged put survives; damage in the middle of the log,
/// with valid records after it, is not something a crash does, so the server refuses to start with exit code 4 and
/// one readable line naming the file and offset. Neither is a last segment that is deleted, emptied or cut short:
/// the manifest and the preallocated length let the server tell that from a shorter log, and it refuses too.
/// </summary>
public class WalRecoveryProcessTests(ITestOutputHelper output)
{
    private const int Puts = 20;

    [Fact]
    public async Task ServerRestartsAfterATornWalTailWithEveryAcknowledgedPut()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(1);
        try
        {
            await PutAllAsync(cluster);
            await cluster.StopAsync();

            var (fs, segment) = await LastSegmentAsync(cluster.DataDirectory(1));
            var last = segment.Records[^1];
            output.WriteLine($"tearing {segment.Name}: last of {segment.Records.Count} records is {last.Type} at byte {last.Offset} ({last.Bytes} bytes)");
            // The crash cut the last write in half. The segment is preallocated, so the lost half reads as the zeros it
            // was filled with (a torn write never shortens a preallocated file; a shorter one is refused, see below).
            var tornPath = Path.Combine(cluster.DataDirectory(1), segment.Name);
            var torn = await File.ReadAllBytesAsync(tornPath);
            Array.Clear(torn, (int)(last.Offset + last.Bytes / 2), last.Bytes - last.Bytes / 2);
            await File.WriteAllBytesAsync(tornPath, torn);
            var after = await WalInspector.InspectAsync(fs, Path.GetDirectoryName(segment.Name)!.Replace('\\', '/'));
            Assert.NotNull(after.Single(s => s.Name == segment.Name).Problem); // the tail really is torn

            cluster.Launch(1);
            await cluster.WaitReadyAsync(TimeSpan.FromSeconds(30));
            var client = Client(cluster, out var channel);
            using (channel)
            {
                for (var i = 0; i < Puts; i++)
                {
                    var got = await client.GetAsync(Key(i));
                    Assert.True(got.IsOk, $"{Key(i)} after recovery: {got.Status}");
                    Assert.Equal(Value(i), got.Value);
                }
            }
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }

    [Fact]
    public async Task ServerRefusesToStartOnWalCorruptionInTheMiddleWithExitCode4AndOneLine()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(1);
        try
        {
            await PutAllAsync(cluster);
            var address = new Uri(cluster.Addresses[1]).Authority;
            await cluster.StopAsync();

            var (_, segment) = await LastSegmentAsync(cluster.DataDirectory(1));
            var victim = segment.Records[segment.Records.Count / 2];
            Assert.True(segment.Records.Count - segment.Records.Count / 2 >= 3, "valid records must follow the damage");
            var path = Path.Combine(cluster.DataDirectory(1), segment.Name);
            var bytes = await File.ReadAllBytesAsync(path);
            bytes[victim.Offset + victim.Bytes - 1] ^= 0x5A; // inside the record, past its header
            await File.WriteAllBytesAsync(path, bytes);

            var self = SelfInvocation.Current();
            var start = new ProcessStartInfo(self.FileName) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in self.Prefix) start.ArgumentList.Add(a);
            foreach (var a in new[] { "server", "--id", "1", "--listen", address, "--members", $"1={address}", "--data", cluster.DataDirectory(1) })
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
                Assert.Fail("flotilla server started on a corrupt WAL instead of refusing");
            }

            Assert.Equal(ExitCodes.BadInput, process.ExitCode);
            var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var line = Assert.Single(lines);
            output.WriteLine($"exit {process.ExitCode}: {line}");
            Assert.StartsWith("flotilla: error:", line);
            Assert.Contains(Path.GetFileName(segment.Name), line);
            Assert.Contains($"at byte {victim.Offset}", line);
            _ = await stdout;
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("empty")]
    [InlineData("truncate")]
    public async Task ServerRefusesToStartWhenItsLastWalSegmentIsDeletedEmptiedOrCutShortWithExitCode4AndOneLine(string damage)
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(1);
        try
        {
            await PutAllAsync(cluster);
            var address = new Uri(cluster.Addresses[1]).Authority;
            await cluster.StopAsync();

            var (_, segment) = await LastSegmentAsync(cluster.DataDirectory(1));
            var path = Path.Combine(cluster.DataDirectory(1), segment.Name);
            switch (damage)
            {
                case "delete": File.Delete(path); break;
                case "empty": await File.WriteAllBytesAsync(path, []); break;
                default:
                    // Cut mid-file, inside the records: this used to keep the first half of the puts and call the rest torn.
                    using (var file = new FileStream(path, FileMode.Open)) file.SetLength(segment.Records[segment.Records.Count / 2].Offset + 5);
                    break;
            }

            var line = await RefusedLineAsync(cluster, address);
            Assert.Contains(Path.GetFileName(segment.Name), line);
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }

    /// <summary>Starts the server on member 1's data and expects it to exit 4 with one line on stderr (returned).</summary>
    private async Task<string> RefusedLineAsync(Flotilla.Server.Cluster.LocalCluster cluster, string address)
    {
        var self = SelfInvocation.Current();
        var start = new ProcessStartInfo(self.FileName) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in self.Prefix) start.ArgumentList.Add(a);
        foreach (var a in new[] { "server", "--id", "1", "--listen", address, "--members", $"1={address}", "--data", cluster.DataDirectory(1) })
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
            Assert.Fail("flotilla server started on a damaged WAL instead of refusing");
        }
        Assert.Equal(ExitCodes.BadInput, process.ExitCode);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        output.WriteLine($"exit {process.ExitCode}: {line}");
        Assert.StartsWith("flotilla: error:", line);
        _ = await stdout;
        return line;
    }

    private static string Key(int i) => $"wal-key-{i}";
    private static string Value(int i) => $"value-{i}";

    private static async Task PutAllAsync(Flotilla.Server.Cluster.LocalCluster cluster)
    {
        var client = Client(cluster, out var channel);
        using (channel)
        {
            for (var i = 0; i < Puts; i++)
            {
                var put = await client.PutAsync(Key(i), Value(i), 0);
                Assert.True(put.Status == KvStatus.Ok, $"put {Key(i)}: {put.Status}");
            }
        }
    }

    private static KvClient Client(Flotilla.Server.Cluster.LocalCluster cluster, out GrpcKvChannel channel)
    {
        channel = new GrpcKvChannel(cluster.File.Endpoints.Select(GrpcKvChannel.ParseEndpoint).ToList());
        return new KvClient(channel, TimeProvider.System, new Random(1), new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(20) });
    }

    /// <summary>The Raft WAL's newest segment that holds records (the directory named "wal" under the data dir).</summary>
    private static async Task<(PhysicalFileSystem Fs, WalSegmentInfo Segment)> LastSegmentAsync(string dataDirectory)
    {
        var fs = new PhysicalFileSystem(dataDirectory);
        var walDirectories = Directory.GetDirectories(dataDirectory, "wal", SearchOption.AllDirectories)
            .Select(d => Path.GetRelativePath(dataDirectory, d).Replace('\\', '/'))
            .Where(d => d.Contains("raft", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(walDirectories);
        var segments = new List<WalSegmentInfo>();
        foreach (var d in walDirectories) segments.AddRange(await WalInspector.InspectAsync(fs, d));
        return (fs, segments.Where(s => s.Records.Count > 2).OrderBy(s => s.Sequence).Last());
    }
}
