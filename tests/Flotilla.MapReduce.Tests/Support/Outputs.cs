using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Core;

namespace Flotilla.MapReduce.Tests.Support;

internal static class Outputs
{
    /// <summary>Every line of every mr-out-* file in <paramref name="directory"/>, sorted: the way test-mr compares.</summary>
    public static List<string> SortedLines(string directory) =>
        Directory.GetFiles(directory, "mr-out-*").SelectMany(File.ReadAllLines).Order(StringComparer.Ordinal).ToList();

    /// <summary>The sequential reference output for the same app and inputs, sorted.</summary>
    public static List<string> Reference(IMapReduceApp app, IReadOnlyList<string> inputs)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"flotilla-mr-reference-{Guid.NewGuid():N}");
        try
        {
            SequentialRunner.Run(app, inputs, path);
            return File.ReadAllLines(path).Order(StringComparer.Ordinal).ToList();
        }
        finally { File.Delete(path); }
    }

    /// <summary>Asserts equality with a short, readable first difference instead of two huge lists.</summary>
    public static void AssertSame(List<string> expected, List<string> actual)
    {
        Assert.True(expected.Count > 0, "the reference output is empty");
        var first = Enumerable.Range(0, Math.Min(expected.Count, actual.Count)).FirstOrDefault(i => expected[i] != actual[i], -1);
        Assert.True(first < 0 && expected.Count == actual.Count,
            $"output differs from the reference: {expected.Count} vs {actual.Count} lines; first difference at line {first}: " +
            (first < 0 ? "(one is a prefix of the other)" : $"expected '{expected[first]}', got '{actual[first]}'"));
    }
}
