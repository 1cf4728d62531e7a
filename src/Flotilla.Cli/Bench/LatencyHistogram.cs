using System.Numerics;

namespace Flotilla.Cli.Bench;

/// <summary>
/// A log-linear latency histogram in the style of HdrHistogram: values below <see cref="SubBucketCount"/> are counted
/// exactly; above that, every power-of-two range is split into <see cref="SubBucketCount"/>/2 equal buckets, so any
/// recorded value is known to within 1/128 (under 0.8 %) of itself, from nanoseconds to centuries, in a fixed 58 KiB.
/// Not thread-safe: each client loop keeps its own and they are merged at the end (no contention while measuring).
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Buckets per power of two (as a count of the top bits kept): 2^8 = 256.</summary>
    private const int SubBucketBits = 8;
    public const int SubBucketCount = 1 << SubBucketBits;
    private const int SubBucketHalf = SubBucketCount / 2;
    // Highest shift: a value of up to 63 bits keeps its top 8 bits, so it is shifted right by at most 63 - 8 = 55.
    private const int ShiftMax = 63 - SubBucketBits;
    private const int BucketCount = SubBucketCount + ShiftMax * SubBucketHalf;

    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }

    public long Min { get; private set; } = long.MaxValue;

    public long Max { get; private set; }

    /// <summary>Sum of all recorded values (exact), for the mean.</summary>
    public Int128 Sum { get; private set; }

    public double Mean => Count == 0 ? 0 : (double)Sum / Count;

    /// <summary>Records one value (e.g. a latency in nanoseconds). Negative values are a bug in the caller.</summary>
    public void Record(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        _counts[IndexOf(value)]++;
        Count++;
        Sum += value;
        if (value < Min) Min = value;
        if (value > Max) Max = value;
    }

    /// <summary>Adds another histogram's counts to this one.</summary>
    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < BucketCount; i++) _counts[i] += other._counts[i];
        Count += other.Count;
        Sum += other.Sum;
        if (other.Count > 0)
        {
            Min = Math.Min(Min, other.Min);
            Max = Math.Max(Max, other.Max);
        }
    }

    /// <summary>
    /// The value at percentile <paramref name="percentile"/> (0..100): the smallest recorded value v such that at
    /// least that share of all values is ≤ v, reported as the highest value of v's bucket (never above the true max),
    /// so a percentile is never understated. 0 when empty.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        if (percentile is < 0 or > 100 || double.IsNaN(percentile)) throw new ArgumentOutOfRangeException(nameof(percentile));
        if (Count == 0) return 0;
        var rank = Math.Max(1, (long)Math.Ceiling(percentile / 100.0 * Count));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return Math.Clamp(HighestEquivalent(i), Min, Max);
        }
        return Max;
    }

    /// <summary>The bucket of <paramref name="value"/> (public for tests of the bucket math).</summary>
    public static int IndexOf(long value)
    {
        if (value < SubBucketCount) return (int)value;
        var shift = BitOperations.Log2((ulong)value) - (SubBucketBits - 1);
        // value >> shift has its top bit at position 7: it lies in [128, 256).
        var sub = (int)(value >> shift) - SubBucketHalf;
        return SubBucketCount + (shift - 1) * SubBucketHalf + sub;
    }

    /// <summary>The largest value that lands in bucket <paramref name="index"/>.</summary>
    public static long HighestEquivalent(int index)
    {
        if (index < SubBucketCount) return index;
        var shift = (index - SubBucketCount) / SubBucketHalf + 1;
        var sub = (index - SubBucketCount) % SubBucketHalf + SubBucketHalf;
        var lowest = (long)sub << shift;
        return lowest + ((1L << shift) - 1);
    }
}
