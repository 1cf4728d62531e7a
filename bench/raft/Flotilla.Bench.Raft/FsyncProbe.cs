using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Flotilla.Bench.Raft;

/// <summary>
/// The physical limit under every durable commit, on the same file system the logs use, one 4 KiB write + sync at a
/// time, three ways:
/// <c>fsync-4k-append</c> grows the file (each fsync must also journal the new size);
/// <c>fsync-4k-prealloc</c> writes into a file zero-filled and synced beforehand (the pattern of a WAL with
/// preallocated segments, such as Flotilla's) — but on ext4 a write whose mtime changed (coarse clock: a new tick since
/// the last write) still makes fsync commit the journal, so slow fsyncs make the next one slow too;
/// <c>fdatasync-4k-prealloc</c> the same with fdatasync(2) (data only, no timestamps): the device's own flush cost.
/// </summary>
public static class FsyncProbe
{
    private const int BlockBytes = 4096;

    private enum Mode { FsyncAppend, FsyncPreallocated, FdatasyncPreallocated }

    public static List<LatencyStats> Measure(string directory, int count)
    {
        Directory.CreateDirectory(directory);
        var results = Enum.GetValues<Mode>().Select(mode => Run(Path.Combine(directory, $"{mode}.bin"), count, mode)).ToList();
        results.Add(Quorum(directory, count));
        return results;
    }

    /// <summary>
    /// <c>fsync-quorum-2of3</c>: three threads (the three members' logs on this one disk) each write 4 KiB into their
    /// own preallocated file and fsync at the same moment; a sample is the time until the second of the three
    /// completes — the disk's share of a 3-member commit, which needs two durable copies. When the device serves
    /// flushes one at a time, this is about twice <c>fsync-4k-prealloc</c>.
    /// </summary>
    private static LatencyStats Quorum(string directory, int count)
    {
        const int members = 3;
        var block = new byte[BlockBytes];
        Random.Shared.NextBytes(block);
        var files = Enumerable.Range(0, members).Select(i => File.OpenHandle(Path.Combine(directory, $"quorum{i}.bin"), FileMode.Create, FileAccess.ReadWrite)).ToArray();
        var samples = new List<long>(count);
        var done = new long[members];
        long roundStart = 0;
        using var barrier = new Barrier(members, _ =>
        {
            // Runs between phases: after a round, record it; before the next, stamp its start.
            if (roundStart != 0) samples.Add(done.Order().ElementAt(1) - roundStart);
            roundStart = Stopwatch.GetTimestamp();
        });
        foreach (var f in files) Preallocate(f, count);
        var started = Stopwatch.GetTimestamp();
        var threads = Enumerable.Range(0, members).Select(m => new Thread(() =>
        {
            for (var i = 0; i < count; i++)
            {
                barrier.SignalAndWait();
                RandomAccess.Write(files[m], block, (long)i * BlockBytes);
                RandomAccess.FlushToDisk(files[m]);
                done[m] = Stopwatch.GetTimestamp();
            }
            barrier.SignalAndWait();
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        for (var i = 0; i < members; i++)
        {
            files[i].Dispose();
            File.Delete(Path.Combine(directory, $"quorum{i}.bin"));
        }
        return LatencyStats.From("fsync-quorum-2of3", members, samples, 0, seconds);
    }

    private static LatencyStats Run(string path, int count, Mode mode)
    {
        var block = new byte[BlockBytes];
        Random.Shared.NextBytes(block);
        var samples = new List<long>(count);
        double seconds;
        using (var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite))
        {
            if (mode != Mode.FsyncAppend) Preallocate(file, count);
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                RandomAccess.Write(file, block, (long)i * BlockBytes);
                if (mode == Mode.FdatasyncPreallocated) Fdatasync(file);
                else RandomAccess.FlushToDisk(file); // fsync(2)
                samples.Add(Stopwatch.GetTimestamp() - t0);
            }
            seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
        File.Delete(path);
        var label = mode switch
        {
            Mode.FsyncAppend => "fsync-4k-append",
            Mode.FsyncPreallocated => "fsync-4k-prealloc",
            _ => "fdatasync-4k-prealloc",
        };
        return LatencyStats.From(label, 1, samples, 0, seconds);
    }

    /// <summary>Zero-fills <paramref name="blocks"/> blocks and syncs them, so later writes there carry data only.</summary>
    private static void Preallocate(SafeFileHandle file, int blocks)
    {
        var zeros = new byte[BlockBytes];
        for (var i = 0; i < blocks; i++) RandomAccess.Write(file, zeros, (long)i * BlockBytes);
        RandomAccess.FlushToDisk(file);
    }

    private static void Fdatasync(SafeFileHandle file)
    {
        if (Libc.fdatasync((int)file.DangerousGetHandle()) != 0)
            throw new IOException($"fdatasync failed (errno {Marshal.GetLastPInvokeError()})");
    }

    private static class Libc
    {
        [DllImport("libc", SetLastError = true)] public static extern int fdatasync(int fd);
    }
}
