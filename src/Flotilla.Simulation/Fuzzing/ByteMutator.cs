namespace Flotilla.Simulation.Fuzzing;

/// <summary>
/// Seeded damage to a valid encoding, for fuzz tests of decoders: the mutants stay close to valid input, so they reach
/// the checks deep inside a decoder that random bytes never get past (lengths, counts, varints, trailing data).
/// </summary>
public static class ByteMutator
{
    /// <summary>A copy of <paramref name="valid"/> with <paramref name="mutations"/> random edits.</summary>
    public static byte[] Mutate(ReadOnlySpan<byte> valid, Random random, int mutations)
    {
        var bytes = new List<byte>(valid.ToArray());
        for (var m = 0; m < mutations; m++)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(8))
            {
                case 0 when bytes.Count > 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;             // flip a bit
                case 1 when bytes.Count > 0: bytes[at] = (byte)random.Next(256); break;                   // overwrite a byte
                case 2: bytes.RemoveRange(at, bytes.Count - at); break;                                   // truncate
                case 3: bytes.InsertRange(at, RandomBytes(random, random.Next(1, 9))); break;             // insert
                case 4 when bytes.Count > 0: bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 9))); break; // delete
                case 5 when bytes.Count > 0:                                                              // a huge varint / length
                    for (var i = at; i < Math.Min(bytes.Count, at + random.Next(1, 11)); i++) bytes[i] = 0xFF;
                    break;
                case 6 when bytes.Count > 0: bytes[at] = (byte)(random.Next(2) == 0 ? 0 : 0x80); break;   // zero / continuation
                default: bytes.AddRange(RandomBytes(random, random.Next(1, 5))); break;                  // trailing bytes
            }
        }
        return bytes.ToArray();
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
