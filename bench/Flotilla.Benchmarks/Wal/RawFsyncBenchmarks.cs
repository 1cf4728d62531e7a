using BenchmarkDotNet.Attributes;
using Microsoft.Win32.SafeHandles;

namespace Flotilla.Benchmarks.Wal;

/// <summary>
/// Reference point without the WAL: write 4 KiB at the end of a file and fsync, in /tmp. "Preallocated" writes into
/// a file already zero-filled to 64 MiB (blocks allocated, size unchanged); otherwise the file grows with each write.
/// </summary>
[Config(typeof(WalBenchmarkConfig))]
public class RawFsyncBenchmarks
{
    private const long FileBytes = 64L * 1024 * 1024;
    private readonly byte[] _block = new byte[4096];
    private string _path = "";
    private SafeFileHandle _file = null!;
    private long _offset;

    [Params(true, false)] public bool Preallocated { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_block);
        _path = Path.Combine("/tmp", "flotilla-fsync-bench-" + Guid.NewGuid().ToString("N"));
        // Same open mode as PhysicalFileSystem, so the only difference from the WAL case is the WAL itself.
        _file = File.OpenHandle(_path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        if (Preallocated) FillWithZeros();
    }

    [Benchmark]
    public void Write4KiBAndFsync()
    {
        RandomAccess.Write(_file, _block, _offset);
        RandomAccess.FlushToDisk(_file);
        _offset += _block.Length;
        if (_offset < FileBytes) return;
        // Wrap around (once per 16384 calls): the preallocated file is rewritten, the growing one starts over empty.
        _offset = 0;
        if (!Preallocated) RandomAccess.SetLength(_file, 0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _file.Dispose();
        File.Delete(_path);
    }

    private void FillWithZeros()
    {
        var zeros = new byte[1 << 20];
        for (long offset = 0; offset < FileBytes; offset += zeros.Length) RandomAccess.Write(_file, zeros, offset);
        RandomAccess.FlushToDisk(_file);
    }
}
