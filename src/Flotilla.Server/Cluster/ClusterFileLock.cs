using System.Diagnostics;

namespace Flotilla.Server.Cluster;

/// <summary>
/// An exclusive hold on a cluster.json for one command's read-modify-write: <c>FILE.lock</c> next to it, opened with
/// <see cref="FileShare.None"/> (an OS lock, flock on Linux, held per open file, so two commands in one process exclude
/// each other too, and a command that dies lets go with its process). Membership commands (<c>cluster
/// add|remove|replace</c>) and <c>cluster restart</c> hold it from their first read of the file to their last write,
/// so two of them cannot both reserve the same id or drop each other's member. The lock file is left in place: deleting
/// it would let a third command lock a new file while the second still waits on the old one.
/// </summary>
public sealed class ClusterFileLock : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private readonly FileStream _stream;

    private ClusterFileLock(FileStream stream, string path)
    {
        _stream = stream;
        LockPath = path;
    }

    /// <summary>Where the lock lives: the cluster file's path plus <c>.lock</c>.</summary>
    public string LockPath { get; }

    public static string LockPathFor(string clusterFilePath) => Path.GetFullPath(clusterFilePath) + ".lock";

    /// <summary>Takes the lock, waiting up to <paramref name="wait"/> (zero: one try) for another command to let go.
    /// Throws <see cref="ClusterFileLockedException"/> ("another cluster command holds FILE.lock ...") if it cannot.</summary>
    public static async Task<ClusterFileLock> AcquireAsync(string clusterFilePath, TimeSpan wait, CancellationToken ct = default)
    {
        var path = LockPathFor(clusterFilePath);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new ClusterFileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None), path);
            }
            catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
            {
                // Held by another command (EWOULDBLOCK from flock, a sharing violation on Windows): wait and try again.
            }
            if (waited.Elapsed >= wait)
                throw new ClusterFileLockedException(path, wait);
            await Task.Delay(Poll, ct);
        }
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>Another command held the cluster file's lock for longer than this one would wait. One line.</summary>
public sealed class ClusterFileLockedException(string lockPath, TimeSpan waited)
    : Exception($"another cluster command holds {lockPath} (waited {waited.TotalSeconds:0.#} s); run this one again once it has finished")
{
    public string LockPath { get; } = lockPath;
}
