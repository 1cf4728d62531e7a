namespace Flotilla.MapReduce.Core;

/// <summary>
/// Writes a file under a hidden temporary name in the same directory and renames it into place, so readers
/// (and a crash at any moment) see either nothing or the whole file, never a partial one.
/// </summary>
public static class AtomicFile
{
    public const string TemporaryPrefix = ".tmp-";

    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/>; returns the bytes written. With
    /// <paramref name="durable"/> the data is fsynced before the rename, so it survives a machine crash; without,
    /// it survives a crash of this process only (the page cache keeps it), which is enough for files that can be
    /// made again, such as intermediate map output (docs/mapreduce.md, "Design").
    /// </summary>
    public static long Write(string path, Action<Stream> write, bool durable = true)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $"{TemporaryPrefix}{Path.GetFileName(path)}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            long length;
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: durable);
                length = stream.Length;
            }
            File.Move(temporary, path, overwrite: true);
            return length;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
