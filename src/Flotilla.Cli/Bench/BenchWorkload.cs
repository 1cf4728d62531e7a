namespace Flotilla.Cli.Bench;

/// <summary>Keys and values of the load: fixed-size, cheap to produce, reproducible from the seed.</summary>
public static class BenchWorkload
{
    public const int KeyBytes = 16;

    /// <summary>Key number <paramref name="index"/>: "k" and 15 digits, 16 ASCII bytes, sorting in index order.</summary>
    public static string Key(int index) => "k" + index.ToString("D15", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The keys client <paramref name="client"/> writes in owned-writes mode: index % clients == client.</summary>
    public static int OwnedKeyCount(int keys, int clients, int client) => client >= keys ? 0 : (keys - 1 - client) / clients + 1;
}

/// <summary>
/// Random printable values of a fixed size for one client. Slices of a seeded random pool, so producing a value costs
/// one string copy rather than V random draws (the generator must not be the bottleneck at 100k ops/s).
/// </summary>
public sealed class ValueSource
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private const int PoolCharsMin = 64 * 1024;

    private readonly string _pool;
    private readonly int _valueBytes;
    private readonly Random _random;

    public ValueSource(int valueBytes, Random random)
    {
        _valueBytes = valueBytes;
        _random = random;
        var chars = new char[Math.Max(PoolCharsMin, 2 * valueBytes)];
        for (var i = 0; i < chars.Length; i++) chars[i] = Alphabet[random.Next(Alphabet.Length)];
        _pool = new string(chars);
    }

    public string Next() => _pool.Substring(_random.Next(_pool.Length - _valueBytes + 1), _valueBytes);
}
