using System.Text.Json;
using Flotilla.Cli.Infrastructure;
using Flotilla.Kv.Client;

namespace Flotilla.Cli.Bench;

/// <summary>
/// Reads <c>--cluster</c>: either a comma-separated list of endpoints ("127.0.0.1:7001,127.0.0.1:7002", with or without
/// http://) or the path of a JSON file. The file may be a list of endpoint strings, an object with an "endpoints" list,
/// or an object with a "nodes" list whose items name their client endpoint in "client", "clientEndpoint", "endpoint"
/// or "address" (the cluster file format is still being settled; these cover the candidates).
/// </summary>
public static class ClusterEndpoints
{
    private static readonly string[] NodeFields = ["client", "clientEndpoint", "endpoint", "address"];
    private const long FileBytesMax = 1 << 20;

    public static IReadOnlyList<Uri> Parse(string text)
    {
        text = text.Trim();
        var fromFile = File.Exists(text) || text.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        var items = fromFile ? FromFile(text) : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (items.Count == 0) throw new CliException($"--cluster: no endpoints in \"{text}\"", ExitCodes.Usage);
        try
        {
            return items.Select(GrpcKvChannel.ParseEndpoint).ToArray();
        }
        catch (FormatException e)
        {
            throw new CliException($"--cluster: {e.Message}", fromFile ? ExitCodes.BadInput : ExitCodes.Usage, e);
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
            if (root.ValueKind == JsonValueKind.Array) return Strings(root);
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("endpoints", out var endpoints)) return Strings(endpoints);
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("nodes", out var nodes) && nodes.ValueKind == JsonValueKind.Array)
                return nodes.EnumerateArray().Select(NodeEndpoint).ToArray();
            throw new CliException($"cluster file {path}: expected a list of endpoints, {{\"endpoints\": [...]}} or {{\"nodes\": [...]}}", ExitCodes.BadInput);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new CliException($"cluster file {path}: {e.Message}", ExitCodes.BadInput, e);
        }
    }

    private static string[] Strings(JsonElement list) => list.EnumerateArray().Select(e => e.GetString() ?? "").ToArray();

    private static string NodeEndpoint(JsonElement node)
    {
        foreach (var field in NodeFields)
            if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String)
                return value.GetString()!;
        throw new CliException($"a cluster node has none of the fields {string.Join(", ", NodeFields)}", ExitCodes.BadInput);
    }
}
