namespace Flotilla.MapReduce.Apps.Testing;

/// <summary>The crash app without the crashes: the reference output for <see cref="CrashApp"/> (6.5840 nocrash.go).</summary>
internal class NoCrashApp : IMapReduceApp
{
    public IEnumerable<KeyValue> Map(string fileName, string contents)
    {
        BeforeTask();
        return
        [
            new KeyValue("a", fileName),
            new KeyValue("b", fileName.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new KeyValue("c", contents.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new KeyValue("d", "xyzzy"),
        ];
    }

    public string Reduce(string key, IReadOnlyList<string> values)
    {
        BeforeTask();
        return string.Join(' ', values.Order(StringComparer.Ordinal));
    }

    protected virtual void BeforeTask() { }
}
