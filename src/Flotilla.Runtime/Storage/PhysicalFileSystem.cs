using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Flotilla.Runtime.Storage;

/// <summary>The real runtime's file system: a directory on disk, fsync through <see cref="RandomAccess.FlushToDisk"/>.</summary>
public sealed class PhysicalFileSystem : IFileSystem
{
    private readonly string _root;

    public PhysicalFileSystem(string root)
    {
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    public string Root => _root;

    private string PathOf(string name)
    {
        if (string.IsNullOrEmpty(name) || Path.IsPathRooted(name) || name.Split('/').Any(p => p is ".." or "." or ""))
            throw new ArgumentException($"'{name}' is not a relative file name", nameof(name));
        return Path.Combine(_root, name);
    }

    public IStorageFile Open(string name, bool create = true)
    {
        var path = PathOf(name);
        if (create) Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var handle = File.OpenHandle(path, create ? FileMode.OpenOrCreate : FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        return new PhysicalFile(name, handle);
    }

    public bool Exists(string name) => File.Exists(PathOf(name));

    public IReadOnlyList<string> List(string prefix = "")
    {
        if (!Directory.Exists(_root)) return [];
        return Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(_root, p).Replace('\\', '/'))
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public void Delete(string name) => File.Delete(PathOf(name));

    public void Rename(string from, string to) => File.Move(PathOf(from), PathOf(to), overwrite: true);

    public ValueTask SyncDirectoryAsync(CancellationToken cancellationToken = default)
    {
        // .NET cannot open a directory as a FileStream, so fsync it through libc where we can.
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return ValueTask.CompletedTask;
        foreach (var dir in Directory.EnumerateDirectories(_root, "*", SearchOption.AllDirectories).Prepend(_root))
            FsyncDirectory(dir);
        return ValueTask.CompletedTask;
    }

    private static void FsyncDirectory(string dir)
    {
        const int O_RDONLY = 0;
        var fd = Libc.open(dir, O_RDONLY);
        if (fd < 0) throw new IOException($"cannot open directory {dir} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Libc.fsync(fd) != 0) throw new IOException($"fsync of directory {dir} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }

    private static class Libc
    {
        [DllImport("libc", SetLastError = true)] public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
        [DllImport("libc", SetLastError = true)] public static extern int fsync(int fd);
        [DllImport("libc", SetLastError = true)] public static extern int close(int fd);
    }

    private sealed class PhysicalFile(string name, SafeFileHandle handle) : IStorageFile
    {
        public string Name { get; } = name;

        public long Length => RandomAccess.GetLength(handle);

        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(RandomAccess.Read(handle, buffer.Span, offset));

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            RandomAccess.Write(handle, data.Span, offset);
            return ValueTask.CompletedTask;
        }

        // fsync blocks for a disk round trip; run it off the node's thread so the node keeps working
        // (sending to followers, batching more proposals) while it waits. The await resumes on the node.
        public ValueTask FlushAsync(CancellationToken cancellationToken = default) =>
            new(Task.Run(() => RandomAccess.FlushToDisk(handle), cancellationToken));

        public void SetLength(long length) => RandomAccess.SetLength(handle, length);

        public void Dispose() => handle.Dispose();
    }
}
