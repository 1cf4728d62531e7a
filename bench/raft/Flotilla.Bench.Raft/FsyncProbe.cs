using System.Diagnostics;

namespace Flotilla.Bench.Raft;

/// <summary>
/// The physical limit under every durable commit, on the same file system the logs use, one 4 KiB write + fsync at a
/// time, two ways: <c>fsync-4k-append</c> grows the file (every fsync must also commit the new size: a journal
/// write) and <c>fsync-4k-prealloc</c> writes into a file zero-filled and synced beforehand (only data and mtime to
/// flush) — the pattern of a WAL with preallocated segments such as Flotilla's.
/// </summary>
public static class FsyncProbe
{
    private const int BlockBytes = 4096;

    public static List<LatencyStats> Measure(string directory, int count)
    {
        Directory.CreateDirectory(directory);
        return [Run(Path.Combine(directory, "append.bin"), count, preallocate: false), Run(Path.Combine(directory, "prealloc.bin"), count, preallocate: true)];
    }

    private static LatencyStats Run(string path, int count, bool preallocate)
    {
        var block = new byte[BlockBytes];
        Random.Shared.NextBytes(block);
        var samples = new List<long>(count);
        double seconds;
        using (var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite))
        {
            if (preallocate)
            {
                var zeros = new byte[BlockBytes];
                for (var i = 0; i < count; i++) RandomAccess.Write(file, zeros, (long)i * BlockBytes);
                RandomAccess.FlushToDisk(file);
            }
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                RandomAccess.Write(file, block, (long)i * BlockBytes);
                RandomAccess.FlushToDisk(file); // fsync(2)
                samples.Add(Stopwatch.GetTimestamp() - t0);
            }
            seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
        File.Delete(path);
        return LatencyStats.From(preallocate ? "fsync-4k-prealloc" : "fsync-4k-append", 1, samples, 0, seconds);
    }
}
