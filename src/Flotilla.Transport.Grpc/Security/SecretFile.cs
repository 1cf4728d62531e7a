using System.Text;

namespace Flotilla.Transport.Grpc;

/// <summary>
/// A secret (cluster secret, admin token) kept in a file readable by its owner only, so it is passed to a process by
/// path and never on a command line where <c>ps</c> shows it. The secret is the file's text with surrounding
/// whitespace trimmed.
/// </summary>
public static class SecretFile
{
    private const long FileBytesMax = 4096;

    /// <summary>Creates (or replaces) <paramref name="path"/> with mode 0600 and <paramref name="secret"/> as its text.
    /// The file is created with those permissions, never widened after the fact.</summary>
    public static void Write(string path, string secret)
    {
        var temp = path + ".tmp";
        File.Delete(temp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new FileStream(temp, options))
        {
            file.Write(Encoding.UTF8.GetBytes(secret + "\n"));
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The secret's bytes. Throws <see cref="InvalidDataException"/> when the file is missing, empty, too
    /// large, or readable by group or others (as ssh refuses a private key with loose permissions).</summary>
    public static byte[] Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"secret file not found: {path}");
        var info = new FileInfo(path);
        if (info.Length > FileBytesMax) throw new InvalidDataException($"secret file {path} is over {FileBytesMax} bytes");
        if (!OperatingSystem.IsWindows() && (info.UnixFileMode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            throw new InvalidDataException($"secret file {path} is readable or writable by others (mode {Convert.ToString((int)info.UnixFileMode, 8)}); chmod 600 it");
        var text = File.ReadAllText(path).Trim();
        if (text.Length == 0) throw new InvalidDataException($"secret file {path} is empty");
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary><see cref="Read"/> as text (an admin token goes into a call header as is).</summary>
    public static string ReadText(string path) => Encoding.UTF8.GetString(Read(path));
}
