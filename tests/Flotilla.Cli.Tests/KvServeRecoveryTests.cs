using System.Diagnostics;
using System.Net;
using Flotilla.Cli.Infrastructure;
using Flotilla.Kv.Hosting;
using Flotilla.Kv.Storage;
using Flotilla.Runtime.Storage;
using Flotilla.Wal;
using Xunit.Abstractions;

namespace Flotilla.Cli.Tests;

/// <summary>
/// <c>flotilla kv serve</c> as a real process on a data directory damaged after compaction: a flipped byte in the
/// snapshot's index field, a deleted snapshot, a directory in its place, a damaged WAL. Each used to start with
/// acknowledged puts quietly rolled back (or exit 1); each must refuse with exit 4 and one line naming the file.
/// </summary>
public sealed class KvServeRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private const int Puts = 40;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "flotilla-kvserve-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    /// <summary>A store written by a server that snapshots and compacts every few puts (small segments), so the WAL no
    /// longer holds the early puts and only the snapshot does.</summary>
    private async Task<string> CompactedStoreAsync(string name, bool compact = true)
    {
        var data = Path.Combine(_root, name);
        var options = new KvDurableLogOptions
        {
            CompactAfterBytes = compact ? 4096 : long.MaxValue,
            Wal = new WalOptions { Directory = "kv/wal", SegmentBytes = 4096, RecordBytesMax = 2048 },
        };
        await using (var host = await KvServerHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), data, options))
        {
            for (var i = 0; i < Puts; i++)
            {
                var put = await CliHarness.RunAsync("kv", "put", $"k{i}", new string('v', 200), "--version", "0", "--server", host.Address.Authority);
                Assert.Equal(ExitCodes.Ok, put.ExitCode);
            }
        }
        Assert.Equal(compact, File.Exists(Path.Combine(data, "kv", "snapshot")));
        return data;
    }

    [Fact]
    public async Task TheUndamagedStoreRecoversEveryPutUnderKvServe()
    {
        var data = await CompactedStoreAsync("control");
        var (code, stdout, stderr) = await RunKvServeAsync(data);
        Assert.True(code is null, $"kv serve exited {code}: {stderr}");
        Assert.Contains($"{Puts} keys recovered", stdout);
    }

    [Fact]
    public async Task AFlippedByteInTheSnapshotIndexFieldRefusesWithExitCode4()
    {
        var data = await CompactedStoreAsync("index");
        var snapshot = Path.Combine(data, "kv", "snapshot");
        var bytes = await File.ReadAllBytesAsync(snapshot);
        bytes[8] ^= 0x02; // the index: silently skipped log records before the header was checksummed
        await File.WriteAllBytesAsync(snapshot, bytes);
        var line = await AssertRefusedAsync(data);
        Assert.Contains("kv/snapshot at byte", line);
        Assert.Contains("checksum mismatch", line);
    }

    [Fact]
    public async Task ASnapshotDeletedAfterCompactionRefusesWithExitCode4()
    {
        var data = await CompactedStoreAsync("deleted");
        File.Delete(Path.Combine(data, "kv", "snapshot"));
        var line = await AssertRefusedAsync(data);
        Assert.Contains("kv/snapshot: missing, but the WAL says the snapshot at index", line);
    }

    [Fact]
    public async Task ASnapshotReplacedByADirectoryRefusesWithExitCode4()
    {
        var data = await CompactedStoreAsync("directory");
        var snapshot = Path.Combine(data, "kv", "snapshot");
        File.Delete(snapshot);
        Directory.CreateDirectory(snapshot);
        var line = await AssertRefusedAsync(data);
        Assert.Contains("kv/snapshot", line);
        Assert.Contains("directory", line);
    }

    [Fact]
    public async Task ADamagedWalRefusesWithExitCode4NamingTheSegmentAndOffset()
    {
        var data = await CompactedStoreAsync("wal", compact: false);
        var segments = await WalInspector.InspectAsync(new PhysicalFileSystem(data), "kv/wal");
        var segment = segments.Where(s => s.Records.Count > 4).OrderBy(s => s.Sequence).First();
        var victim = segment.Records[segment.Records.Count / 2];
        var path = Path.Combine(data, segment.Name);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[victim.Offset + victim.Bytes - 1] ^= 0x5A; // inside the record, with valid records after it
        await File.WriteAllBytesAsync(path, bytes);
        var line = await AssertRefusedAsync(data);
        Assert.Contains(Path.GetFileName(segment.Name), line);
        Assert.Contains($"at byte {victim.Offset}", line);
    }

    private async Task<string> AssertRefusedAsync(string data)
    {
        var (code, stdout, stderr) = await RunKvServeAsync(data);
        output.WriteLine($"exit {code}: {stderr.Trim()}");
        Assert.True(code is not null, $"kv serve started on a damaged store: {stdout}");
        Assert.Equal(ExitCodes.BadInput, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("flotilla: error: refusing to start:", line);
        return line;
    }

    /// <summary>Runs <c>flotilla kv serve</c>: its exit code if it exits, or null once it says it is listening (then it
    /// is stopped). Either within a deadline.</summary>
    private static async Task<(int? ExitCode, string Stdout, string Stderr)> RunKvServeAsync(string data)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "flotilla.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "kv", "serve", "--listen", "127.0.0.1:0", "--data", data }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = new System.Text.StringBuilder();
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                stdout.AppendLine(line);
                if (!line.Contains("listening on ", StringComparison.Ordinal)) continue;
                process.Kill();
                await process.WaitForExitAsync();
                return (null, stdout.ToString(), await stderr);
            }
            await process.WaitForExitAsync(deadline.Token);
            return (process.ExitCode, stdout.ToString(), await stderr);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"kv serve neither exited nor listened within 30 s: {stdout}");
        }
    }
}
