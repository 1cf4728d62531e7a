namespace Flotilla.MapReduce.Tests.Support;

internal static class TestData
{
    private static readonly Lazy<string> Directory = new(FindGutenberg);

    /// <summary>All the books, sorted by name.</summary>
    public static IReadOnlyList<string> Books => System.IO.Directory.GetFiles(Directory.Value, "*.txt").Order(StringComparer.Ordinal).ToArray();

    /// <summary>The first <paramref name="count"/> books: scenarios that need only a few use fewer to stay fast.</summary>
    public static IReadOnlyList<string> SomeBooks(int count) => Books.Take(count).ToArray();

    // In CI the repository is a clone in another folder with ../shared beside it: walk up from the test binaries.
    private static string FindGutenberg()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "data", "gutenberg"), Path.Combine(dir.FullName, "..", "shared", "data", "gutenberg") })
            {
                if (System.IO.Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            }
        }
        throw new InvalidOperationException($"no shared/data/gutenberg above {AppContext.BaseDirectory}");
    }
}
