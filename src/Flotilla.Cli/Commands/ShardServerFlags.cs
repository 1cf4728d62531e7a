using System.CommandLine;
using Flotilla.Cli.Infrastructure;
using Flotilla.Server;
using Flotilla.Server.Sharding;

namespace Flotilla.Cli.Commands;

/// <summary>The <c>flotilla server</c> flags that make a member of a sharded store instead of the replicated KV:
/// <c>--shard-groups 1,2</c> hosts a replica of the controller and of those data groups; <c>--shards S</c>.</summary>
internal static class ShardServerFlags
{
    private static readonly Option<string?> Groups = new("--shard-groups")
    {
        Description = "Serve a sharded KV instead: host a replica of the shard controller and of these data groups (gids, comma-separated), all with the same --peers.",
    };

    private static readonly Option<int> Shards = new("--shards")
    {
        Description = "With --shard-groups: the store's shard count (every member must agree).",
        DefaultValueFactory = _ => 16,
    };

    public static void AddTo(Command command)
    {
        command.Options.Add(Groups);
        command.Options.Add(Shards);
    }

    /// <summary>The application the flags ask for: the sharded store with --shard-groups, else the replicated KV;
    /// <paramref name="credentials"/>: what its group-to-group migration calls prove (null: unauthenticated).</summary>
    public static IServerApplication Application(ParseResult parse, IReadOnlyDictionary<Flotilla.Runtime.NodeId, Uri> members,
        Flotilla.Transport.Grpc.ClusterCredentials? credentials)
    {
        if (parse.GetValue(Groups) is not { } text)
        {
            return parse.GetResult(Shards) is { Implicit: false }
                ? throw new CliException("--shards needs --shard-groups", ExitCodes.Usage)
                : new KvServerApplication();
        }
        var options = new ShardServerOptions
        {
            ShardCount = parse.GetValue(Shards),
            Gids = Parse(text),
            Controllers = members.OrderBy(m => m.Key.Value).Select(m => $"http://{m.Value.Authority}").ToList(),
            Credentials = credentials,
        };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new CliException($"--shard-groups/--shards: {e.Message}", ExitCodes.Usage); }
        return new ShardServerApplication(options);
    }

    /// <summary>A description for the start line.</summary>
    public static string Describe(IServerApplication application) => application is ShardServerApplication sharded
        ? $"; sharded: controller + groups {string.Join(",", sharded.Options.Gids)} over {sharded.Options.ShardCount} shards"
        : "";

    private static IReadOnlyList<int> Parse(string text)
    {
        try { return ShardServerOptions.ParseGids(text); }
        catch (FormatException e) { throw new CliException($"--shard-groups: {e.Message}", ExitCodes.Usage); }
    }
}
