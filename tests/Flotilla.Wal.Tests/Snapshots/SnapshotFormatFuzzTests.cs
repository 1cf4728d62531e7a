using CsCheck;
using Flotilla.Simulation.Fuzzing;
using Flotilla.Wal.Snapshots;

namespace Flotilla.Wal.Tests.Snapshots;

/// <summary>
/// Fuzzing the snapshot reader (CsCheck): random bytes and mutants of valid files either decode to exactly what was
/// written or throw <see cref="SnapshotCorruptionException"/>, never anything else; a valid file always round-trips.
/// Bounded by iteration counts (about a second each).
/// </summary>
public sealed class SnapshotFormatFuzzTests
{
    private const string Name = "fuzz/snapshot";

    private static readonly Gen<(SnapshotKind Kind, ulong Index, ulong Term, byte[] Payload)> Valid =
        Gen.Select(Gen.Enum<SnapshotKind>(), Gen.ULong, Gen.ULong, Gen.Byte.Array[0, 300]);

    [Fact]
    public void ValidFilesRoundTrip() =>
        Valid.Sample(s =>
        {
            var read = SnapshotFormat.Decode(Name, SnapshotFormat.Encode(s.Kind, s.Index, s.Term, s.Payload), s.Kind);
            Assert.Equal((s.Kind, s.Index, s.Term), (read.Kind, read.Index, read.Term));
            Assert.Equal(s.Payload, read.Payload.ToArray());
        }, iter: 2_000, threads: 1);

    [Fact]
    public void RandomBytesOnlyEverThrowTheTypedError() =>
        Gen.Byte.Array[0, 400].Sample(bytes =>
        {
            try { SnapshotFormat.Decode(Name, bytes, SnapshotKind.KvStore); }
            catch (SnapshotCorruptionException e) { Assert.Equal(Name, e.File); }
        }, iter: 5_000, threads: 1);

    [Fact]
    public void MutantsOfValidFilesAreRefusedOrDecodeToWhatWasWritten() =>
        Gen.Select(Valid, Gen.Int, Gen.Int[1, 6]).Sample((s, seed, mutations) =>
        {
            var valid = SnapshotFormat.Encode(s.Kind, s.Index, s.Term, s.Payload);
            var mutant = ByteMutator.Mutate(valid, new Random(seed), mutations);
            StoredSnapshot read;
            try { read = SnapshotFormat.Decode(Name, mutant, s.Kind); }
            catch (SnapshotCorruptionException) { return; }
            // Accepted: then it must be byte-for-byte the valid file (the edits cancelled out), never a changed one.
            Assert.Equal(valid, mutant);
            Assert.Equal((s.Index, s.Term), (read.Index, read.Term));
        }, iter: 5_000, threads: 1);
}
