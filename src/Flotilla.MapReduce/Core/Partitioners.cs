using System.Text;
using Flotilla.MapReduce.Apps;

namespace Flotilla.MapReduce.Core;

/// <summary>Which reduce task receives a key. Stable across processes and machines (never string.GetHashCode).</summary>
public static class Partitioners
{
    public const string Hash = "fnv";
    public const string FirstLetter = "first-letter";
    public const string App = "app";

    public static IReadOnlyList<string> Names { get; } = [Hash, FirstLetter, App];

    public static Func<string, int, int> Create(string name, IMapReduceApp app) => name switch
    {
        Hash => static (key, reduceCount) => (int)(Fnv1a(key) % (uint)reduceCount),
        // Range-style: all keys with the same first character meet in one reducer.
        FirstLetter => static (key, reduceCount) => key.Length == 0 ? 0 : key[0] % reduceCount,
        App when app is IPartitioningApp custom => (key, reduceCount) => Checked(custom.Partition(key, reduceCount), reduceCount),
        App => throw new MapReduceException(MapReduceError.BadAppArguments, $"--partitioner app: {app.GetType().Name} does not implement IPartitioningApp"),
        _ => throw new ArgumentException($"unknown partitioner '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
    };

    /// <summary>32-bit FNV-1a over the key's UTF-8 bytes.</summary>
    public static uint Fnv1a(string key)
    {
        const uint offsetBasis = 2166136261;
        const uint prime = 16777619;
        var hash = offsetBasis;
        Span<byte> buffer = stackalloc byte[256];
        var byteCount = Encoding.UTF8.GetMaxByteCount(key.Length) <= buffer.Length
            ? Encoding.UTF8.GetBytes(key, buffer)
            : -1;
        ReadOnlySpan<byte> bytes = byteCount >= 0 ? buffer[..byteCount] : Encoding.UTF8.GetBytes(key);
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= prime;
        }
        return hash;
    }

    private static int Checked(int partition, int reduceCount) =>
        partition >= 0 && partition < reduceCount
            ? partition
            : throw new InvalidOperationException($"the app's partitioner returned {partition}, outside [0, {reduceCount})");
}
