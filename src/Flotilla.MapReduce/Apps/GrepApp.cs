using System.Text.RegularExpressions;

namespace Flotilla.MapReduce.Apps;

/// <summary>
/// Distributed grep: every line matching a regular expression, keyed by "file:line-number" (zero-padded so
/// ordinal order is line order). The pattern comes from <c>--app-arg pattern=...</c> or FLOTILLA_GREP_PATTERN.
/// </summary>
public sealed class GrepApp : IMapReduceApp
{
    public const string PatternEnvironmentVariable = "FLOTILLA_GREP_PATTERN";
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(5);
    private Regex? _pattern;

    public void Configure(IReadOnlyDictionary<string, string> arguments)
    {
        var pattern = arguments.GetValueOrDefault("pattern") ?? Environment.GetEnvironmentVariable(PatternEnvironmentVariable);
        if (string.IsNullOrEmpty(pattern))
            throw new MapReduceException(MapReduceError.BadAppArguments,
                $"the grep app needs a pattern: --app-arg pattern=REGEX or {PatternEnvironmentVariable}");
        try { _pattern = new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout); }
        catch (ArgumentException e) { throw new MapReduceException(MapReduceError.BadAppArguments, $"bad grep pattern: {e.Message}"); }
    }

    public IEnumerable<KeyValue> Map(string fileName, string contents)
    {
        var pattern = _pattern ?? throw new InvalidOperationException("GrepApp.Configure was not called");
        var lineNumber = 0;
        using var reader = new StringReader(contents);
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (pattern.IsMatch(line)) yield return new KeyValue($"{fileName}:{lineNumber:D9}", line);
        }
    }

    public string Reduce(string key, IReadOnlyList<string> values) => values[0];
}
