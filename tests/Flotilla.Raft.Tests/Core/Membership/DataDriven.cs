namespace Flotilla.Raft.Tests.Core.Membership;

/// <summary>
/// A small runner for etcd-style data-driven test files (etcd's datadriven package, as in raft/confchange/testdata):
/// blocks of one command line, a <c>----</c> line, and the expected output, separated by blank lines; <c>#</c> starts
/// a comment line. The handler runs each command in order (state may carry from one block to the next) and every
/// mismatch is reported with its file and line, so one run shows all of them.
/// </summary>
internal static class DataDriven
{
    public sealed record Case(string File, int Line, string Command, string Expected);

    public static IReadOnlyList<Case> Parse(string path)
    {
        var lines = File.ReadAllLines(path);
        var cases = new List<Case>();
        var name = Path.GetFileName(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var at = i + 1;
            if (i + 1 >= lines.Length || lines[i + 1].Trim() != "----")
                throw new InvalidDataException($"{name}:{at}: expected '----' after the command '{line}'");
            i += 2;
            var expected = new List<string>();
            for (; i < lines.Length && lines[i].Trim().Length > 0; i++) expected.Add(lines[i].TrimEnd());
            cases.Add(new Case(name, at, line, string.Join('\n', expected)));
        }
        return cases;
    }

    /// <summary>Runs every case of <paramref name="file"/> (under testdata/) through <paramref name="run"/>.</summary>
    public static void Run(string file, Func<string, string> run)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Core", "Membership", "testdata", file);
        var cases = Parse(path);
        Assert.NotEmpty(cases);
        var failures = new List<string>();
        foreach (var c in cases)
        {
            var actual = run(c.Command).TrimEnd();
            if (actual != c.Expected) failures.Add($"{c.File}:{c.Line}: {c.Command}\n  expected: {c.Expected.Replace("\n", "\n            ")}\n  actual:   {actual.Replace("\n", "\n            ")}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases failed:\n" + string.Join('\n', failures));
    }

    /// <summary>The words of a command after its name; <c>key=value</c> words are returned in <paramref name="options"/>.</summary>
    public static List<string> Words(string command, out Dictionary<string, string> options)
    {
        options = new Dictionary<string, string>();
        var words = new List<string>();
        foreach (var w in command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            var eq = w.IndexOf('=');
            if (eq > 0) options[w[..eq]] = w[(eq + 1)..];
            else words.Add(w);
        }
        return words;
    }
}
