using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;

namespace Flotilla.Wal.Tests;

/// <summary>A spare becomes a segment only after its zeros are on disk, so the new segment's first fsync carries just
/// its own records (with unsynced zeros it would write out up to a whole segment while the batch's callers wait).</summary>
public sealed class SpareFlushTests
{
    [Fact]
    public async Task EverySpareIsFlushedAfterItsLastWriteAndBeforeItBecomesASegment()
    {
        var fs = new RecordingFileSystem(new SimFileSystem());
        var options = new WalOptions { SegmentBytes = 4096 };
        var (log, _) = await WriteAheadLog.OpenAsync(fs, options);
        for (ulong i = 1; i <= 600; i++)
        {
            log.Append(new WalEntry(i, 1, new byte[40]));
            if (i % 5 == 0) await log.SyncAsync();
        }
        var used = log.SpareSegmentsUsed;
        await log.DisposeAsync();

        Assert.True(used >= 3, $"only {used} segments came from a spare");
        var spare = options.Directory + "/spare.tmp";
        var renames = 0;
        var state = "none"; // what the spare's last event was: write or flush
        foreach (var e in fs.Events)
        {
            if (e == $"write {spare}") state = "write";
            else if (e == $"flush {spare}") state = state == "write" ? "flushed" : state;
            else if (e.StartsWith($"rename {spare} ", StringComparison.Ordinal))
            {
                Assert.Equal("flushed", state);
                renames++;
                state = "none";
            }
        }
        Assert.Equal(used, renames);
    }

    /// <summary>Records writes, flushes and renames by file name, in order.</summary>
    private sealed class RecordingFileSystem(IFileSystem inner) : IFileSystem
    {
        public List<string> Events { get; } = [];
        public IStorageFile Open(string name, bool create = true) => new File(this, inner.Open(name, create), name);
        public bool Exists(string name) => inner.Exists(name);
        public IReadOnlyList<string> List(string prefix = "") => inner.List(prefix);
        public void Delete(string name) => inner.Delete(name);
        public void Rename(string from, string to)
        {
            Events.Add($"rename {from} {to}");
            inner.Rename(from, to);
        }
        public ValueTask SyncDirectoryAsync(CancellationToken cancellationToken = default) => inner.SyncDirectoryAsync(cancellationToken);

        private sealed class File(RecordingFileSystem fs, IStorageFile file, string openedAs) : IStorageFile
        {
            public string Name => file.Name;
            public long Length => file.Length;
            public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => file.ReadAsync(offset, buffer, cancellationToken);
            public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
            {
                fs.Events.Add($"write {openedAs}");
                return file.WriteAsync(offset, data, cancellationToken);
            }
            public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
            {
                await file.FlushAsync(cancellationToken);
                fs.Events.Add($"flush {openedAs}");
            }
            public void SetLength(long length) => file.SetLength(length);
            public void Dispose() => file.Dispose();
        }
    }
}
