using CsCheck;
using Flotilla.Runtime.Storage;
using Flotilla.Simulation.Storage;
using Flotilla.Wal.Tests.Support;

namespace Flotilla.Wal.Tests;

/// <summary>
/// Recovery reads bytes nobody vouches for. Whatever they are (random bytes, or a valid log with bytes flipped,
/// ranges zeroed or copied elsewhere, the file cut short), opening must either refuse with
/// <see cref="WalCorruptionException"/> or return entries that were really written, each with its own term and
/// data: never another exception, never an invented entry.
/// </summary>
public sealed class DecodingFuzzTests
{
    private static readonly WalOptions Options = new() { SegmentBytes = 4096 };

    /// <summary>A valid log of several segments (entries 1..80, 60 bytes each, a state and a snapshot mark), its files, and
    /// what was written at each index.</summary>
    private static readonly Lazy<(Dictionary<string, byte[]> Files, Dictionary<ulong, (ulong Term, byte[] Data)> Written)> Base = new(() =>
    {
        var fs = new SimFileSystem();
        var written = new Dictionary<ulong, (ulong, byte[])>();
        var (log, _) = WriteAheadLog.OpenAsync(fs, Options).AsTask().GetAwaiter().GetResult();
        for (ulong i = 1; i <= 80; i++)
        {
            var data = WalAssert.Bytes((int)i, 60);
            log.Append(new WalEntry(i, 1 + i / 20, data));
            written[i] = (1 + i / 20, data);
            if (i == 25) log.SaveState([1, 2, 3]);
            if (i == 30) log.MarkSnapshot(10, 1);
            if (i % 4 == 0) log.SyncAsync().AsTask().GetAwaiter().GetResult();
        }
        log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        var files = fs.List().ToDictionary(n => n, n => fs.ReadAllAsync(n).AsTask().GetAwaiter().GetResult());
        return (files, written);
    });

    private enum Mutation { Flip, Zero, Copy, Truncate }

    private static readonly Gen<(Mutation Kind, int At, int Length, int To, byte Mask)> GenMutation =
        Gen.Select(Gen.Enum<Mutation>(), Gen.Int[0, 1 << 20], Gen.Int[1, 200], Gen.Int[0, 1 << 20], Gen.Byte[1, 255]);

    [Fact]
    public void RandomBytesAsALastSegmentAreRefusedOrYieldNothingInvented() =>
        Gen.Select(Gen.Byte.Array[0, 3000], Gen.Bool).Sample(sample =>
        {
            var (bytes, keepHeader) = sample;
            var files = new Dictionary<string, byte[]>(Base.Value.Files);
            var last = files.Keys.Where(n => n.EndsWith(".seg")).Max()!;
            // Either pure noise, or noise after the segment's genuine header (so the batch parser gets exercised).
            files[last] = keepHeader ? [.. Base.Value.Files[last].AsSpan(0, 72), .. bytes] : bytes;
            OpenChecked(files);
        }, iter: 400, threads: 1);

    [Fact]
    public void MutatedValidSegmentsAreRefusedOrYieldOnlyWrittenEntries() =>
        Gen.Select(Gen.Int[0, 2], GenMutation.Array[1, 4]).Sample(sample =>
        {
            var (segment, mutations) = sample;
            var files = new Dictionary<string, byte[]>(Base.Value.Files);
            var segments = files.Keys.Where(n => n.EndsWith(".seg")).Order(StringComparer.Ordinal).ToList();
            Assert.True(segments.Count >= 3, $"{segments.Count} segments");
            var name = segments[segment % segments.Count];
            var bytes = files[name].ToArray();
            foreach (var (kind, at0, length, to0, mask) in mutations)
            {
                if (bytes.Length == 0) break;
                var at = at0 % bytes.Length;
                var n = Math.Min(length, bytes.Length - at);
                switch (kind)
                {
                    case Mutation.Flip: bytes[at] ^= mask; break;
                    case Mutation.Zero: Array.Clear(bytes, at, n); break;
                    case Mutation.Copy:
                        var to = to0 % bytes.Length;
                        Array.Copy(bytes, at, bytes, to, Math.Min(n, bytes.Length - to));
                        break;
                    case Mutation.Truncate: bytes = bytes[..at]; break;
                }
            }
            files[name] = bytes;
            OpenChecked(files);
        }, iter: 600, threads: 1);

    private static void OpenChecked(Dictionary<string, byte[]> files)
    {
        var fs = new SimFileSystem();
        foreach (var (name, bytes) in files)
        {
            using var file = fs.Open(name);
            file.WriteAsync(0, bytes).AsTask().GetAwaiter().GetResult();
        }
        WalRecovery recovery;
        try
        {
            var (log, r) = WriteAheadLog.OpenAsync(fs, Options).AsTask().GetAwaiter().GetResult();
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
            recovery = r;
        }
        catch (WalCorruptionException)
        {
            return;
        }
        foreach (var entry in recovery.Entries)
        {
            Assert.True(Base.Value.Written.TryGetValue(entry.Index, out var written), $"entry {entry.Index} was never written");
            Assert.Equal(written.Term, entry.Term);
            Assert.Equal(written.Data, entry.Data.ToArray());
        }
    }
}
