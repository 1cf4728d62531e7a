using System.Diagnostics;

namespace Flotilla.Server.Tests.Support;

/// <summary>A small tmpfs a test can fill up, to see a real process meet ENOSPC. Mounting needs root on Linux; where
/// it fails the tests say so and fall back to their in-process fault-injecting variants.</summary>
internal static class SmallDisk
{
    /// <summary>Mounts a tmpfs of <paramref name="mebibytes"/> MiB at the existing directory; false when this machine
    /// cannot (not Linux, not root, no mount).</summary>
    public static bool TryMount(string directory, int mebibytes) =>
        OperatingSystem.IsLinux() && Run("mount", "-t", "tmpfs", "-o", $"size={mebibytes}m", "tmpfs", directory);

    /// <summary>Lazy unmount, so a file still open in a dying process does not keep the mount busy.</summary>
    public static void Unmount(string directory) => Run("umount", "-l", directory);

    /// <summary>Writes a file until the file system says it is full.</summary>
    public static void FillUp(string path)
    {
        var chunk = new byte[64 * 1024];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0);
        try
        {
            while (true) file.Write(chunk);
        }
        catch (IOException e) when (Flotilla.Runtime.Storage.DiskFull.Is(e)) { }
    }

    private static bool Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            process.WaitForExit(30_000);
            return process.HasExited && process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }
}
