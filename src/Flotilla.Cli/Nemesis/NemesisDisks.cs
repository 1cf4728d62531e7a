namespace Flotilla.Cli.Nemesis;

/// <summary>
/// Small disks for the <c>disk-full</c> faults: each member's data directory is its own tmpfs (<see cref="SizeMiB"/>
/// MiB, mounted with the source name <see cref="Source"/> before the member first starts), which a fault fills to the
/// last byte with a ballast file and a heal frees by deleting it. Only made when the run asks for disk-full faults.
/// At the end the data is copied back onto the real disk before unmounting, so a failed run keeps it for the report;
/// <see cref="UnmountLeftoversAsync"/> clears the mounts of a run that died.
/// </summary>
public sealed class NemesisDisks(Func<int, string> dataDirectory)
{
    public const string Source = "flt-disk";
    public const int SizeMiB = 64;
    private const string Ballast = "nemesis-ballast";

    private readonly HashSet<int> _mounted = [];

    public async Task MountAsync(int node)
    {
        var directory = dataDirectory(node);
        Directory.CreateDirectory(directory);
        await HostShell.CheckedAsync("mount", ["-t", "tmpfs", "-o", $"size={SizeMiB}m", Source, directory]);
        _mounted.Add(node);
    }

    /// <summary>Writes the ballast until the file system says it is full; returns the bytes written.</summary>
    public long Fill(int node)
    {
        var chunk = new byte[256 * 1024];
        long written = 0;
        using var file = new FileStream(Path.Combine(dataDirectory(node), Ballast), FileMode.Append, FileAccess.Write, FileShare.None, 0);
        try
        {
            while (true)
            {
                file.Write(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException e) when (Flotilla.Runtime.Storage.DiskFull.Is(e))
        {
            // The last partial chunk: take the last few KiB too, so even a small write finds no room.
            try
            {
                for (var small = new byte[4096]; ; written += small.Length) file.Write(small);
            }
            catch (IOException again) when (Flotilla.Runtime.Storage.DiskFull.Is(again)) { }
        }
        return written;
    }

    public void Free(int node) => File.Delete(Path.Combine(dataDirectory(node), Ballast));

    /// <summary>Frees and unmounts every disk, the data copied back onto the directory underneath (members stopped first).</summary>
    public async Task UnmountAllAsync()
    {
        foreach (var node in _mounted.ToList())
        {
            var directory = dataDirectory(node);
            var saved = directory.TrimEnd('/') + ".kept";
            try
            {
                Free(node);
                if (Directory.Exists(saved)) Directory.Delete(saved, recursive: true);
                CopyTree(directory, saved);
            }
            catch (IOException) { }
            await UnmountAsync(directory);
            _mounted.Remove(node);
            if (!Directory.Exists(saved)) continue;
            Directory.Delete(directory, recursive: true);
            Directory.Move(saved, directory);
        }
    }

    /// <summary>Unmounts every <see cref="Source"/> tmpfs still mounted (a run that was killed before its teardown).</summary>
    public static async Task UnmountLeftoversAsync()
    {
        if (!File.Exists("/proc/mounts")) return;
        foreach (var line in File.ReadAllLines("/proc/mounts"))
        {
            var fields = line.Split(' ');
            // "flt-disk /tmp/x/nodes/n1/data tmpfs rw,..." (spaces in the path are written \040)
            if (fields.Length > 2 && fields[0] == Source && fields[2] == "tmpfs") await UnmountAsync(fields[1].Replace("\\040", " "));
        }
    }

    private static async Task UnmountAsync(string directory)
    {
        // Lazy as a fallback: a member that has not quite gone yet must not leave the mount behind.
        if ((await HostShell.RunAsync("umount", [directory])).ExitCode != 0) await HostShell.RunAsync("umount", ["-l", directory]);
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var directory in Directory.GetDirectories(from)) CopyTree(directory, Path.Combine(to, Path.GetFileName(directory)));
    }
}
