using Microsoft.Extensions.Logging;
using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Flotilla.Cli.Infrastructure;
using Flotilla.Kv;
using Flotilla.Kv.Client;
using Flotilla.Kv.Hosting;

namespace Flotilla.Cli.Commands;

/// <summary>
/// <c>flotilla kv</c>: run a versioned key/value server (<c>serve</c>) and talk to one or to a cluster (<c>get</c>,
/// <c>put</c>). The client commands are the same for the single-node and the replicated store: give one endpoint
/// with --server or several with --cluster, and the client tries them in turn.
/// </summary>
public static class KvCommand
{
    private static readonly Option<string?> Server = new("--server")
    {
        Description = "Server endpoint, host:port (several may be given comma-separated, as with --cluster).",
    };
    private static readonly Option<string?> Cluster = new("--cluster")
    {
        Description = "Endpoints, comma-separated host:port list, or the path of a cluster.json with an \"endpoints\" array.",
    };
    private static readonly Option<string> Timeout = new("--timeout")
    {
        Description = "Give up (exit 3) if no server answers within this long: seconds, or a number with ms/s suffix.",
        DefaultValueFactory = _ => "5s",
    };
    private static readonly Option<bool> Json = new("--json")
    {
        Description = "Print exactly one JSON object {\"key\",\"value\",\"version\",\"error\"} on stdout.",
    };

    public static Command Create()
    {
        var kv = new Command("kv", "Versioned key/value store: serve it, get and put keys.");
        kv.Subcommands.Add(ServeCommand());
        kv.Subcommands.Add(GetCommand());
        kv.Subcommands.Add(PutCommand());
        return kv;
    }

    private static Command ServeCommand()
    {
        var listen = new Option<string>("--listen") { Description = "Address to listen on, ip:port (port 0 = any free port).", DefaultValueFactory = _ => "127.0.0.1:7400" };
        var data = new Option<string>("--data") { Description = "Data directory: the store's snapshot and log (created if absent).", Required = true };
        var command = new Command("serve", "Serve the gRPC API flotilla.kv.v1.Kv (protos/flotilla/kv.proto) until interrupted. Acknowledged puts are on disk.");
        command.Options.Add(listen);
        command.Options.Add(data);
        command.SetAction(async (parse, cancellationToken) =>
        {
            IPEndPoint endpoint;
            try { endpoint = IPEndPoint.Parse(parse.GetValue(listen)!); }
            catch (FormatException) { throw new CliException($"--listen must be ip:port, not '{parse.GetValue(listen)}'", ExitCodes.Usage); }
            var directory = Path.GetFullPath(parse.GetValue(data)!);
            KvServerHost host;
            // Trouble while serving (a full disk, a failed one) goes to stderr, one line each.
            using var logs = LoggerFactory.Create(b => b
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
                .AddSimpleConsole(o => o.SingleLine = true)
                .AddFilter((category, level) => level >= LogLevel.Warning && !category!.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)));
            try { host = await KvServerHost.StartAsync(endpoint, directory, cancellationToken: cancellationToken, logs: logs); }
            catch (InvalidDataException e) { throw new CliException($"{directory}: {e.Message}", ExitCodes.BadInput, e); }
            catch (Flotilla.Wal.WalCorruptionException e) { throw new CliException($"refusing to start: the write-ahead log in {directory} is damaged: {e.Message}", ExitCodes.BadInput, e); }
            catch (Flotilla.Wal.Snapshots.SnapshotCorruptionException e) { throw new CliException($"refusing to start: the snapshot in {directory} is unusable: {e.Message}", ExitCodes.BadInput, e); }
            catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException($"cannot listen on {endpoint}: {e.Message}", ExitCodes.Failure, e);
            }
            await using (host)
            {
                var output = parse.InvocationConfiguration.Output;
                var (replayed, torn) = host.Log.Recovered;
                output.WriteLine($"kv server listening on {host.Address} (data {directory}; {host.Server.State.KeyCount} keys recovered, {replayed} log records replayed{(torn > 0 ? $", {torn} torn bytes dropped" : "")})");
                if (host.Log.RecoveredTornTail is { } tornTail) output.WriteLine($"kv server: WAL recovery {tornTail}");
                output.Flush();
                try { await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken); }
                catch (OperationCanceledException) { }
                output.WriteLine("kv server stopped");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command GetCommand()
    {
        var key = new Argument<string>("key") { Description = "The key." };
        var command = new Command("get", "Read a key: its value and version.");
        command.Arguments.Add(key);
        AddClientOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var k = parse.GetValue(key)!;
            var (client, channel, endpoints) = Connect(parse);
            using (channel)
            {
                var result = await client.GetAsync(k, cancellationToken);
                return Report(parse, k, endpoints, result.Status, result.IsOk ? result.Value : null, result.IsOk ? result.Version : null, result.Detail,
                    text: $"{result.Value} (version {result.Version})");
            }
        });
        return command;
    }

    private static Command PutCommand()
    {
        var key = new Argument<string>("key") { Description = "The key." };
        var value = new Argument<string>("value") { Description = "The value to store." };
        var version = new Option<ulong>("--version")
        {
            Description = "Expected current version of the key (0 = create a key that must not exist yet).",
            Required = true,
        };
        var command = new Command("put", "Write a key if its version is --version; the key then has version --version + 1.");
        command.Arguments.Add(key);
        command.Arguments.Add(value);
        command.Options.Add(version);
        AddClientOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (k, v, expected) = (parse.GetValue(key)!, parse.GetValue(value)!, parse.GetValue(version));
            var (client, channel, endpoints) = Connect(parse);
            using (channel)
            {
                var result = await client.PutAsync(k, v, expected, cancellationToken);
                return Report(parse, k, endpoints, result.Status, result.IsOk ? v : null, result.IsOk ? expected + 1 : null, result.Detail,
                    text: $"ok: '{k}' is now at version {expected + 1}");
            }
        });
        return command;
    }

    private static void AddClientOptions(Command command)
    {
        command.Options.Add(Server);
        command.Options.Add(Cluster);
        command.Options.Add(Timeout);
        command.Options.Add(Json);
        KvTlsFlags.AddTo(command);
    }

    private static (IKvClient Client, IDisposable Channel, IReadOnlyList<Uri> Endpoints) Connect(ParseResult parse)
    {
        var timeout = ParseTimeout(parse.GetValue(Timeout)!);
        // A sharded store's cluster.json: route each key to its shard's group (same options, same ErrMaybe rule).
        if (parse.GetValue(Server) is null && ShardedClusterTarget.IsSharded(parse.GetValue(Cluster)))
        {
            var file = ShardedClusterTarget.Load(parse.GetValue(Cluster)!);
            var (sharded, shardChannel) = ShardedKvConnect.Create(file,
                new KvClientOptions { OperationTimeout = timeout, AttemptTimeout = timeout / 4, BackoffMax = TimeSpan.FromMilliseconds(250) }, Random.Shared);
            return (sharded, shardChannel, file.Endpoints.Select(e => new Uri(e)).ToArray());
        }
        var (tls, endpoints) = KvTlsFlags.Apply(parse, Endpoints(parse));
        var channel = new GrpcKvChannel(endpoints, tls);
        var options = new KvClientOptions
        {
            OperationTimeout = timeout,
            // A refused connection fails fast anyway; the attempt timeout only bounds a silent endpoint. Give each
            // endpoint a fair share of the deadline rather than a short fixed one: a slow but live server (cold start,
            // a loaded machine) would otherwise see its answered put retried and reported as ErrMaybe.
            AttemptTimeout = timeout / endpoints.Count,
            BackoffMax = TimeSpan.FromMilliseconds(250),
        };
        return (new KvClient(channel, TimeProvider.System, Random.Shared, options), channel, endpoints);
    }

    internal static IReadOnlyList<Uri> Endpoints(ParseResult parse)
    {
        var server = parse.GetValue(Server);
        var cluster = parse.GetValue(Cluster);
        if (server is null == cluster is null) throw new CliException("give exactly one of --server and --cluster", ExitCodes.Usage);
        return server is not null ? ClusterEndpoints.Parse(server, "--server") : ClusterEndpoints.Parse(cluster!);
    }

    internal static TimeSpan ParseTimeout(string text)
    {
        var t = text.Trim();
        var (number, scale) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 0.001)
            : t.EndsWith('s') ? (t[..^1], 1.0) : (t, 1.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0 || value * scale > 3600)
            throw new CliException($"--timeout must be a positive duration up to 1 hour (e.g. 5s, 500ms), not '{text}'", ExitCodes.Usage);
        return TimeSpan.FromSeconds(value * scale);
    }

    /// <summary>Prints the outcome (one JSON object with --json, else a line) and picks the exit code.</summary>
    private static int Report(ParseResult parse, string key, IReadOnlyList<Uri> endpoints, KvStatus status, string? value, ulong? version, string? detail, string text)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        (int code, string? name, string? message) = status switch
        {
            KvStatus.Ok => (ExitCodes.Ok, (string?)null, (string?)null),
            KvStatus.ErrNoKey => (ExitCodes.KvNoKey, "ErrNoKey", $"ErrNoKey: key '{key}' does not exist"),
            KvStatus.ErrVersion => (ExitCodes.KvVersion, "ErrVersion", $"ErrVersion: '{key}' is not at the given version; nothing was written"),
            KvStatus.ErrMaybe => (ExitCodes.KvMaybe, "ErrMaybe", $"ErrMaybe: a retry found '{key}' at another version; an earlier attempt may or may not have been applied"),
            // The addresses tried, not gRPC's transport text ("Error connecting to subchannel"), which names none.
            KvStatus.Unavailable => (ExitCodes.Unavailable, "Unavailable",
                $"no KV server answered within {parse.GetValue(Timeout)} (tried {string.Join(", ", endpoints.Select(e => e.Authority))})"),
            KvStatus.InvalidArgument => (ExitCodes.BadInput, "InvalidArgument", $"invalid argument: {detail} (limits: key 1..{KvLimits.KeyBytesMax} bytes, value up to {KvLimits.ValueBytesMax} bytes)"),
            _ => (ExitCodes.Failure, status.ToString(), status.ToString()),
        };
        if (parse.GetValue(Json))
        {
            output.WriteLine(JsonSerializer.Serialize(new JsonResult(key, value, version, name), JsonResultContext.Default.JsonResult));
        }
        else if (status == KvStatus.Ok)
        {
            output.WriteLine(text);
        }
        // Failures also get one human line on stderr (stdout stays machine-readable with --json).
        if (message is not null) error.WriteLine($"flotilla: error: {message}");
        return code;
    }
}

internal sealed record JsonResult(
    [property: System.Text.Json.Serialization.JsonPropertyName("key")] string Key,
    [property: System.Text.Json.Serialization.JsonPropertyName("value")] string? Value,
    [property: System.Text.Json.Serialization.JsonPropertyName("version")] ulong? Version,
    [property: System.Text.Json.Serialization.JsonPropertyName("error")] string? Error);

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonResult))]
internal sealed partial class JsonResultContext : System.Text.Json.Serialization.JsonSerializerContext;
