namespace Flotilla.Runtime.Storage;

/// <summary>
/// A node's private directory of files, with the durability rules of a POSIX file system:
/// file data is durable only after <see cref="IStorageFile.FlushAsync"/>; creating, renaming and deleting
/// files is durable only after <see cref="SyncDirectoryAsync"/>. The simulated implementation loses or
/// tears whatever was not made durable when a node crashes, so code that forgets a flush fails its tests.
/// <para>Names are relative paths with '/' separators; subdirectories are created on demand.</para>
/// </summary>
public interface IFileSystem
{
    /// <summary>Opens a file, creating it empty if <paramref name="create"/> and it does not exist.
    /// Throws <see cref="FileNotFoundException"/> when it does not exist and <paramref name="create"/> is false.</summary>
    IStorageFile Open(string name, bool create = true);

    bool Exists(string name);

    /// <summary>File names (relative to this file system) that start with <paramref name="prefix"/>, in ordinal order.</summary>
    IReadOnlyList<string> List(string prefix = "");

    /// <summary>Removes a file if it exists.</summary>
    void Delete(string name);

    /// <summary>Atomically replaces <paramref name="to"/> with <paramref name="from"/> (rename(2)).</summary>
    void Rename(string from, string to);

    /// <summary>Makes earlier creates, renames and deletes durable (fsync of the directory).</summary>
    ValueTask SyncDirectoryAsync(CancellationToken cancellationToken = default);
}

/// <summary>An open file with positional reads and writes.</summary>
public interface IStorageFile : IDisposable
{
    string Name { get; }

    long Length { get; }

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; returns how many were read (0 at end).</summary>
    ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Writes at <paramref name="offset"/>, extending the file if needed. Not durable until <see cref="FlushAsync"/>.</summary>
    ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>fsync: every write and <see cref="SetLength"/> before this call is durable when it completes.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Truncates or extends (with zeros) the file. Not durable until <see cref="FlushAsync"/>.</summary>
    void SetLength(long length);
}
