namespace Flotilla.Runtime.Storage;

public static class FileSystemExtensions
{
    /// <summary>Reads a whole file.</summary>
    public static async ValueTask<byte[]> ReadAllAsync(this IFileSystem fs, string name, CancellationToken cancellationToken = default)
    {
        using var file = fs.Open(name, create: false);
        var data = new byte[file.Length];
        var done = 0;
        while (done < data.Length)
        {
            var n = await file.ReadAsync(done, data.AsMemory(done), cancellationToken);
            if (n == 0) throw new IOException($"{name}: file shrank while being read");
            done += n;
        }
        return data;
    }

    /// <summary>
    /// Replaces a file's contents atomically and durably: write a temporary file, fsync it, rename it over
    /// the target, fsync the directory. After a crash the file holds either the old or the new contents.
    /// </summary>
    public static async ValueTask WriteAtomicallyAsync(this IFileSystem fs, string name, ReadOnlyMemory<byte> contents, CancellationToken cancellationToken = default)
    {
        var temp = name + ".tmp";
        using (var file = fs.Open(temp, create: true))
        {
            file.SetLength(0);
            await file.WriteAsync(0, contents, cancellationToken);
            await file.FlushAsync(cancellationToken);
        }
        fs.Rename(temp, name);
        await fs.SyncDirectoryAsync(cancellationToken);
    }
}
