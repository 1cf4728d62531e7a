using Flotilla.Kv.Client;
using Flotilla.Server.Cluster;

namespace Flotilla.Cli.Infrastructure;

/// <summary>
/// Reads the endpoints a client command is pointed at (<c>--server</c>, <c>--cluster</c>): either a comma-separated
/// list ("127.0.0.1:7001,127.0.0.1:7002", with or without http://) or the path of a cluster file — the
/// <c>cluster.json</c> that <c>flotilla cluster start</c> writes, or a plain JSON array of endpoint strings. One parser
/// for every command, so they all accept the same things and fail alike: anything that names a file (it exists, ends
/// in .json, or is a path) is read as one, and a missing, unreadable, malformed or wrong-kind file is exit 4.
/// </summary>
public static partial class ClusterEndpoints
{
    /// <summary><paramref name="kind"/> null accepts a cluster file of any kind (commands that only need the endpoints).</summary>
    public static IReadOnlyList<Uri> Parse(string text, string option = "--cluster", string? kind = ClusterKinds.ReplicatedKv)
    {
        text = text.Trim();
        if (NamesFile(text)) return Load(text, kind).Endpoints.Select(e => Endpoint(e, $"cluster file {text}", ExitCodes.BadInput)).ToArray();
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (items.Length == 0) throw new CliException($"{option}: no endpoints in \"{text}\"", ExitCodes.Usage);
        return items.Select(e => Endpoint(e, option, ExitCodes.Usage)).ToArray();
    }

    /// <summary>Reads a cluster file (exit 4 on any problem with it) and checks it is of <paramref name="kind"/>.</summary>
    public static ClusterFile Load(string path, string? kind = ClusterKinds.ReplicatedKv)
    {
        try
        {
            var file = ClusterFile.Load(path);
            return kind is null ? file : file.RequireKind(kind, path);
        }
        catch (ClusterFileException e)
        {
            throw new CliException(e.Message, ExitCodes.BadInput, e);
        }
    }

    /// <summary>A path, not an endpoint list: an existing file or directory, a .json name, or anything with a slash
    /// that does not start like an endpoint (<c>scheme://</c> or <c>host:port</c>).</summary>
    private static bool NamesFile(string text) =>
        File.Exists(text) || Directory.Exists(text) || text.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
        || ((text.Contains('/') || text.Contains('\\')) && !LooksLikeEndpoint().IsMatch(text));

    [System.Text.RegularExpressions.GeneratedRegex(@"^([a-zA-Z][a-zA-Z0-9+.-]*://|[^/\\,\s]+:[0-9]+)")]
    private static partial System.Text.RegularExpressions.Regex LooksLikeEndpoint();

    private static Uri Endpoint(string text, string option, int exitCode)
    {
        try
        {
            return GrpcKvChannel.ParseEndpoint(text);
        }
        catch (FormatException e)
        {
            throw new CliException($"{option}: {e.Message}", exitCode, e);
        }
    }
}
