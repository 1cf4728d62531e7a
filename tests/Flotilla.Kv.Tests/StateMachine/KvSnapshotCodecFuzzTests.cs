using CsCheck;
using Flotilla.Kv.StateMachine;
using Flotilla.Simulation.Fuzzing;

namespace Flotilla.Kv.Tests.StateMachine;

/// <summary>
/// Fuzzing the KV snapshot codec (CsCheck): random bytes and mutants of valid snapshots never throw anything but
/// <see cref="InvalidDataException"/>, from the codec or from <see cref="KvStateMachine.Restore"/>; valid snapshots
/// round-trip. Bounded by iteration counts (about a second each).
/// </summary>
public sealed class KvSnapshotCodecFuzzTests
{
    private static readonly Gen<(string Key, string Value, ulong Version)[]> Entries =
        Gen.Select(Text(1, 12), Text(0, 30), Gen.ULong[1, ulong.MaxValue]).Array[0, 12];

    /// <summary>Text that UTF-8 round-trips (no lone surrogates), with some multi-byte characters.</summary>
    private static Gen<string> Text(int min, int max) => Gen.Char["abcxyz019 é€✓"].Array[min, max].Select(c => new string(c));

    private static byte[] Encode((string Key, string Value, ulong Version)[] entries) => KvSnapshotCodec.Encode(entries, entries.Length);

    private static void DecodeOrRefuse(byte[] bytes)
    {
        try { KvSnapshotCodec.Decode(bytes); }
        catch (InvalidDataException) { }
        try { KvStateMachine.Restore(bytes); }
        catch (InvalidDataException) { }
    }

    [Fact]
    public void ValidSnapshotsRoundTrip() =>
        Entries.Sample(entries => Assert.Equal(entries, KvSnapshotCodec.Decode(Encode(entries))), iter: 2_000, threads: 1);

    [Fact]
    public void RandomBytesOnlyEverThrowInvalidDataException() =>
        Gen.Byte.Array[0, 300].Sample(DecodeOrRefuse, iter: 5_000, threads: 1);

    [Fact]
    public void MutantsOfValidSnapshotsOnlyEverThrowInvalidDataException() =>
        Gen.Select(Entries, Gen.Int, Gen.Int[1, 6]).Sample((entries, seed, mutations) =>
            DecodeOrRefuse(ByteMutator.Mutate(Encode(entries), new Random(seed), mutations)), iter: 5_000, threads: 1);
}
