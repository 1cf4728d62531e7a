namespace Flotilla.Runtime.Storage;

/// <summary>Recognises "no space left on device" in an I/O failure (also when wrapped, e.g. by a poisoned log).</summary>
public static class DiskFull
{
    /// <summary>ENOSPC on Linux and macOS (.NET puts the errno in <see cref="Exception.HResult"/> on Unix).</summary>
    public const int Enospc = 28;

    private const int ErrorDiskFull = unchecked((int)0x80070070);
    private const int ErrorHandleDiskFull = unchecked((int)0x80070027);

    public static bool Is(Exception? error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is IOException && e.HResult is Enospc or ErrorDiskFull or ErrorHandleDiskFull or 0x70 or 0x27) return true;
            if (e is AggregateException { InnerExceptions.Count: > 0 } many && many.InnerExceptions.Any(Is)) return true;
        }
        return false;
    }

    /// <summary>An <see cref="IOException"/> that <see cref="Is"/> recognises, for fault-injecting tests.</summary>
    public static IOException Exception(string path) => new($"No space left on device : '{path}'", Enospc);
}
