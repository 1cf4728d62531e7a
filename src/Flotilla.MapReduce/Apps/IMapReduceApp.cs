namespace Flotilla.MapReduce.Apps;

/// <summary>One intermediate (or output) record.</summary>
public readonly record struct KeyValue(string Key, string Value);

/// <summary>
/// A MapReduce application. Ship your own by compiling a class that implements this interface into an
/// assembly and passing its path to <c>--app</c>. Both functions must be deterministic in their output for
/// re-executed tasks to be harmless (they may have side effects, such as the test apps' probe files).
/// </summary>
public interface IMapReduceApp
{
    /// <summary>Called once, before any task, with the <c>--app-arg key=value</c> pairs given to the worker.</summary>
    void Configure(IReadOnlyDictionary<string, string> arguments) { }

    /// <summary>Turns one input file into intermediate key/value pairs.</summary>
    IEnumerable<KeyValue> Map(string fileName, string contents);

    /// <summary>Turns all the values of one key into the output value of that key.</summary>
    string Reduce(string key, IReadOnlyList<string> values);
}

/// <summary>
/// An optional combiner (MapReduce paper §4.3): merges values of one key on the map side to shrink the shuffle.
/// Its result is fed back to <see cref="IMapReduceApp.Reduce"/> as a single value, so it must be something
/// Reduce accepts as input (for word count: a partial sum).
/// </summary>
public interface ICombiningApp : IMapReduceApp
{
    string Combine(string key, IReadOnlyList<string> values);
}

/// <summary>An optional partitioner chosen with <c>--partitioner app</c>: decides which reduce task gets a key.</summary>
public interface IPartitioningApp : IMapReduceApp
{
    /// <summary>Returns a partition in [0, reduceCount).</summary>
    int Partition(string key, int reduceCount);
}

/// <summary>Receives one record from <see cref="ISpanMapApp.Map"/>; <paramref name="key"/> is valid only during the call.</summary>
public delegate void SpanEmitter(ReadOnlySpan<char> key, string value);

/// <summary>
/// An optional allocation-free map for combining apps: keys are handed over as spans, so a key already seen in
/// this task costs a hash lookup instead of a new string. Used only when the combiner runs; it must emit exactly
/// what <see cref="IMapReduceApp.Map"/> emits.
/// </summary>
public interface ISpanMapApp : ICombiningApp
{
    void Map(string fileName, string contents, SpanEmitter emit);
}

/// <summary>Receives one record from <see cref="IUtf8MapApp.TryMap"/>: <paramref name="key"/> is UTF-8, valid only during the call.</summary>
public delegate void Utf8SpanEmitter(ReadOnlySpan<byte> key, string value);

/// <summary>
/// An optional byte-level map for combining apps: the input file's bytes are handed over undecoded and keys come back
/// as UTF-8 spans, so the engine neither decodes the file to UTF-16 nor makes a string per key until it writes the
/// key out. <see cref="TryMap"/> may decline input it cannot tokenize as bytes (for word count: anything not ASCII)
/// by returning false before emitting anything; the engine then decodes the file as <c>File.ReadAllText</c> does and
/// uses the string map. When it accepts, it must emit exactly what <see cref="IMapReduceApp.Map"/> emits on the
/// decoded text. Used only when the combiner runs.
/// </summary>
public interface IUtf8MapApp : ICombiningApp
{
    bool TryMap(string fileName, ReadOnlySpan<byte> contents, Utf8SpanEmitter emit);
}
