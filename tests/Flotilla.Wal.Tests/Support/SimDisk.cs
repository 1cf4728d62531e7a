using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;

namespace Flotilla.Wal.Tests.Support;

public static class SimDisk
{
    /// <summary>A durable copy of <paramref name="source"/> whose files pass through <paramref name="transform"/>
    /// (return null to leave a file out): how tests build damaged disks.</summary>
    public static async Task<SimFileSystem> CopyAsync(IFileSystem source, Func<string, byte[], byte[]?>? transform = null)
    {
        var copy = new SimFileSystem();
        foreach (var name in source.List())
        {
            var bytes = await source.ReadAllAsync(name);
            var changed = transform is null ? bytes : transform(name, bytes);
            if (changed is null) continue;
            using var file = copy.Open(name);
            await file.WriteAsync(0, changed);
            await file.FlushAsync();
        }
        await copy.SyncDirectoryAsync();
        return copy;
    }
}
