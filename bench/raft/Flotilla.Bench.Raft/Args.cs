namespace Flotilla.Bench.Raft;

/// <summary>"--name value" pairs after the mode word; flags without a value are not used here.</summary>
public sealed class Args(string[] argv)
{
    private readonly Dictionary<string, string> _values = Enumerable.Range(0, argv.Length / 2)
        .ToDictionary(i => argv[2 * i], i => argv[2 * i + 1]);

    public string Get(string name) => _values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"missing {name}");
    public string Get(string name, string fallback) => _values.GetValueOrDefault(name, fallback);
    public int Int(string name) => int.Parse(Get(name));
    public int Int(string name, int fallback) => _values.TryGetValue(name, out var v) ? int.Parse(v) : fallback;
}
