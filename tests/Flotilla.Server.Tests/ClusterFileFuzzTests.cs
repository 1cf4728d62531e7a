using System.Text.Json;
using CsCheck;
using Flotilla.Server.Cluster;

namespace Flotilla.Server.Tests;

/// <summary>cluster.json parsing under random and mutated input: it either yields a file that keeps every promise
/// (known kind, endpoints, well-formed members) or fails with the one documented error, a
/// <see cref="ClusterFileException"/> whose message is one line naming the file. Anything else escaping is a bug.</summary>
public class ClusterFileFuzzTests
{
    private const string Source = "fuzz/cluster.json";

    private static readonly Gen<string> Keys = Gen.OneOf<string>("kind", "endpoints", "members", "id", "address", "peer", "pid", "data", "log",
        "command", "created", "supervisor", "other");

    private static readonly Gen<string> Scalars = Gen.OneOf(
        Gen.OneOf<string>("null", "true", "false", "0", "-1", "1", "7", "1.5", "1e400", "99999999999", "-99999999999999999999",
            "\"\"", "\" \"", "\"replicated-kv\"", "\"sharded-kv\"", "\"127.0.0.1:7001\"", "\"http://127.0.0.1:1\"", "\"2026-01-01T00:00:00Z\"",
            "\"not a date\"", "\"\\ud800\"", "\"a\\nb\""),
        Gen.Int.Select(i => i.ToString()),
        Gen.String.Select(s => JsonSerializer.Serialize(s)));

    private static Gen<string> Value(int depth) => depth == 0
        ? Scalars
        : Gen.Frequency(
            (3, Scalars),
            (1, Value(depth - 1).Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
            (2, Gen.Select(Keys, Value(depth - 1)).Array[0, 6].Select(props => "{" + string.Join(",", props.Select(p => $"\"{p.Item1}\":{p.Item2}")) + "}")));

    /// <summary>A file as 'cluster start' writes it, then cut, spliced and sprinkled with JSON punctuation.</summary>
    private static readonly Gen<string> Mutated =
        Gen.Select(Gen.Int[1, 4], Gen.Int[0, 3].Array[1, 4], Gen.Int.Array[4], Gen.Char["{}[]\",:0-9a \\"].Array[1, 3])
            .Select((members, ops, positions, chars) =>
            {
                var text = Valid(members);
                for (var i = 0; i < ops.Length; i++)
                {
                    var at = (int)((uint)positions[i % positions.Length] % (uint)(text.Length + 1));
                    var end = Math.Min(text.Length, at + 1 + (int)((uint)positions[(i + 1) % positions.Length] % 12));
                    text = ops[i] switch
                    {
                        0 => text.Remove(at, end - at),
                        1 => text.Insert(at, new string(chars)),
                        2 => text[..at],
                        _ => text.Insert(at, text[at..end]),
                    };
                }
                return text;
            });

    private static string Valid(int members) => JsonSerializer.Serialize(new ClusterFile
    {
        Endpoints = Enumerable.Range(1, members).Select(i => $"http://127.0.0.1:{7000 + i}").ToList(),
        SupervisorPid = 42,
        Members = Enumerable.Range(1, members).Select(i => new ClusterMember
        {
            Id = i, Address = $"http://127.0.0.1:{7000 + i}", PeerAddress = $"tcp://127.0.0.1:{8000 + i}", Pid = 100 + i,
            DataDirectory = $"/d/node-{i}", LogFile = $"/d/node-{i}/server.log", Command = ["dotnet", "flotilla.dll", "server", "--id", $"{i}"],
        }).ToList(),
    });

    /// <summary>True if it parsed, false if it failed as documented; anything else fails the test.</summary>
    private static bool ParsesOrFailsWithTheDocumentedError(string text)
    {
        ClusterFile file;
        try
        {
            file = ClusterFile.Parse(text, Source);
        }
        catch (ClusterFileException e)
        {
            Assert.StartsWith($"cluster file {Source}", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            Assert.DoesNotContain('\r', e.Message);
            return false;
        }
        Assert.Contains(file.Kind, ClusterKinds.All);
        Assert.NotEmpty(file.Endpoints);
        Assert.All(file.Endpoints, e => Assert.False(string.IsNullOrWhiteSpace(e)));
        Assert.All(file.Members, m =>
        {
            Assert.NotNull(m);
            Assert.True(m.Id > 0);
            Assert.False(string.IsNullOrWhiteSpace(m.Address));
        });
        Assert.Equal(file.Members.Count, file.Members.Select(m => m.Id).Distinct().Count());
        return true;
    }

    [Fact]
    public void TheFileClusterStartWritesReadsBackWhole()
    {
        var file = ClusterFile.Parse(Valid(3), Source);
        Assert.Equal(ClusterKinds.ReplicatedKv, file.Kind);
        Assert.Equal(3, file.Members.Count);
        Assert.Equal(["dotnet", "flotilla.dll", "server", "--id", "2"], file.Members[1].Command);
        Assert.Equal(42, file.SupervisorPid);
    }

    // A few thousand inputs each: about a second on a loaded 2-core machine.
    [Fact]
    public void RandomJsonNeverEscapesAsAnythingButAClusterFileException() =>
        Value(3).Sample(t => { ParsesOrFailsWithTheDocumentedError(t); }, iter: 4_000, print: t => t);

    [Fact]
    public void MutatedClusterFilesNeverEscapeAsAnythingButAClusterFileException()
    {
        var (parsed, refused) = (0, 0);
        Mutated.Sample(t =>
        {
            if (ParsesOrFailsWithTheDocumentedError(t)) Interlocked.Increment(ref parsed);
            else Interlocked.Increment(ref refused);
        }, iter: 4_000, print: t => t);
        // Both outcomes must be common, or the mutations test only one side of the parser.
        Assert.True(parsed > 100 && refused > 100, $"parsed {parsed}, refused {refused}");
    }
}
