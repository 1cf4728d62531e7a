using System.Text.Json;
using Flotilla.Kv.Client;

namespace Flotilla.Cli.Infrastructure;

/// <summary>
/// Reads the endpoints a client command is pointed at (<c>--server</c>, <c>--cluster</c>): either a comma-separated
/// list ("127.0.0.1:7001,127.0.0.1:7002", with or without http://) or the path of a JSON file — the
/// <c>cluster.json</c> that <c>flotilla cluster start</c> writes (an object with an "endpoints" array), or a plain array
/// of endpoint strings. One parser for every command, so they all accept the same things.
/// </summary>
public static class ClusterEndpoints
{
    private const long FileBytesMax = 1 << 20;

    public static IReadOnlyList<Uri> Parse(string text, string option = "--cluster")
    {
        text = text.Trim();
        var fromFile = File.Exists(text) || text.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var items = fromFile ? FromFile(text) : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (items.Count == 0) throw new CliException($"{option}: no endpoints in \"{text}\"", ExitCodes.Usage);
        try
        {
            return items.Select(GrpcKvChannel.ParseEndpoint).ToArray();
        }
        catch (FormatException e)
        {
            throw new CliException($"{option}: {e.Message}", fromFile ? ExitCodes.BadInput : ExitCodes.Usage, e);
        }
    }

    private static IReadOnlyList<string> FromFile(string path)
    {
        if (!File.Exists(path)) throw new CliException($"cluster file not found: {path}", ExitCodes.BadInput);
        if (new FileInfo(path).Length > FileBytesMax) throw new CliException($"cluster file {path} is over {FileBytesMax} bytes", ExitCodes.BadInput);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array) return Strings(root, path);
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("endpoints", out var endpoints) && endpoints.ValueKind == JsonValueKind.Array)
                return Strings(endpoints, path);
            throw new CliException($"cluster file {path}: expected {{\"endpoints\": [...]}} (as 'flotilla cluster start' writes) or a list of endpoints", ExitCodes.BadInput);
        }
        catch (JsonException e)
        {
            throw new CliException($"cluster file {path}: not valid JSON ({e.Message})", ExitCodes.BadInput, e);
        }
    }

    private static string[] Strings(JsonElement list, string path) =>
        list.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String
            ? e.GetString()!
            : throw new CliException($"cluster file {path}: every endpoint must be a string", ExitCodes.BadInput)).ToArray();
}
