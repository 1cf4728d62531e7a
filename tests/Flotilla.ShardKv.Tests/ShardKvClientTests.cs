using Flotilla.Kv.Client;
using Flotilla.ShardKv.Client;
using Flotilla.ShardKv.Controller;
using Flotilla.ShardKv.Rpc;
using KvError = Flotilla.Kv.Protos.KvError;

namespace Flotilla.ShardKv.Tests;

/// <summary>The routing client against a scripted channel: where it sends, when it refreshes, and the ErrMaybe rule.</summary>
public class ShardKvClientTests
{
    private const int Shards = 4;

    /// <summary>Answers queries with the configurations in turn (the last one repeats) and group calls from a script.</summary>
    private sealed class ScriptedChannel(List<ShardConfigData> configs, Queue<KvCall<ShardKvReply>> script) : IShardChannel
    {
        public List<string> Sent { get; } = [];
        public int Queries { get; private set; }

        public Task<KvCall<ControllerReply>> QueryAsync(string endpoint, int num, TimeSpan timeout, CancellationToken ct) =>
            Task.FromResult(KvCall<ControllerReply>.Answer(new ControllerReply { Config = configs[Math.Min(Queries++, configs.Count - 1)] }));

        public Task<KvCall<ShardKvReply>> GetAsync(string endpoint, int gid, ShardKvRequest request, TimeSpan timeout, CancellationToken ct) => Next(endpoint, gid);

        public Task<KvCall<ShardKvReply>> PutAsync(string endpoint, int gid, ShardKvRequest request, TimeSpan timeout, CancellationToken ct) => Next(endpoint, gid);

        private Task<KvCall<ShardKvReply>> Next(string endpoint, int gid)
        {
            Sent.Add($"{gid}@{endpoint}");
            return Task.FromResult(script.Dequeue());
        }

        public Task<KvCall<ShardMoveReply>> PullAsync(string endpoint, int gid, ShardMoveRequest request, TimeSpan timeout, CancellationToken ct) => throw new NotSupportedException();

        public Task<KvCall<ShardMoveReply>> DeleteAsync(string endpoint, int gid, ShardMoveRequest request, TimeSpan timeout, CancellationToken ct) => throw new NotSupportedException();
    }

    private static ShardConfigData Config(int num, int gid) => new()
    {
        Num = num,
        Shards = Enumerable.Repeat(gid, Shards).ToArray(),
        Groups = new SortedDictionary<int, string[]> { [gid] = [$"g{gid}a", $"g{gid}b"] },
    };

    private static KvCall<ShardKvReply> Answer(KvError kv) => KvCall<ShardKvReply>.Answer(new ShardKvReply { KvError = kv });
    private static KvCall<ShardKvReply> Status(ShardStatus status) => KvCall<ShardKvReply>.Answer(new ShardKvReply { Status = status });
    private static KvCall<ShardKvReply> Lost => KvCall<ShardKvReply>.Lost("timeout");

    private static ShardKvClient Client(ScriptedChannel channel) =>
        new(channel, ["c1"], TimeProvider.System, new Random(1), new KvClientOptions { BackoffMin = TimeSpan.FromMilliseconds(1), BackoffMax = TimeSpan.FromMilliseconds(2) });

    [Fact]
    public async Task AWrongServerAnswerNamingTheLeaderSendsTheNextAttemptThere()
    {
        // Three members: the first says the leader is the third, so the second is skipped.
        var config = new ShardConfigData
        {
            Num = 1,
            Shards = Enumerable.Repeat(1, Shards).ToArray(),
            Groups = new SortedDictionary<int, string[]> { [1] = ["g1a", "g1b", "g1c"] },
        };
        var channel = new ScriptedChannel([config], new([
            KvCall<ShardKvReply>.Answer(new ShardKvReply { Status = ShardStatus.WrongServer, Leader = "g1c" }),
            Answer(KvError.Ok),
            // A hint naming an endpoint the configuration does not list is ignored: the turn goes on.
            KvCall<ShardKvReply>.Answer(new ShardKvReply { Status = ShardStatus.WrongServer, Leader = "elsewhere" }),
            Answer(KvError.Ok)]));
        var client = Client(channel);
        Assert.Equal(KvStatus.Ok, (await client.PutAsync("k", "v", 0)).Status);
        Assert.Equal(["1@g1a", "1@g1c"], channel.Sent);
        Assert.Equal(1, client.HintsFollowed);
        Assert.Equal(KvStatus.Ok, (await client.PutAsync("k", "w", 1)).Status);
        Assert.Equal(["1@g1a", "1@g1c", "1@g1c", "1@g1a"], channel.Sent);
        Assert.Equal(1, client.HintsFollowed);
    }

    [Fact]
    public async Task AnUnansweredAttemptThenErrVersionIsErrMaybe()
    {
        var channel = new ScriptedChannel([Config(1, 1)], new([Lost, Answer(KvError.ErrVersion)]));
        Assert.Equal(KvStatus.ErrMaybe, (await Client(channel).PutAsync("k", "v", 3)).Status);
        Assert.Equal(["1@g1a", "1@g1b"], channel.Sent);
    }

    [Fact]
    public async Task WrongServerAndWrongGroupAnswersAppliedNothingSoErrVersionStaysErrVersion()
    {
        // Group 1 first says not the leader, then that the shard moved; the refreshed configuration routes to group 2.
        var channel = new ScriptedChannel([Config(1, 1), Config(2, 2)], new([Status(ShardStatus.WrongServer), Status(ShardStatus.WrongGroup), Answer(KvError.ErrVersion)]));
        var client = Client(channel);
        Assert.Equal(KvStatus.ErrVersion, (await client.PutAsync("k", "v", 3)).Status);
        Assert.Equal(["1@g1a", "1@g1b", "2@g2a"], channel.Sent);
        Assert.Equal(2, client.Config!.Num);
    }

    [Fact]
    public async Task TheClientSticksToTheMemberThatAnsweredLast()
    {
        var channel = new ScriptedChannel([Config(1, 1)], new([Status(ShardStatus.WrongServer), Answer(KvError.Ok), Answer(KvError.Ok)]));
        var client = Client(channel);
        Assert.True((await client.PutAsync("k", "v", 0)).IsOk);
        Assert.True((await client.GetAsync("k")).IsOk);
        Assert.Equal(["1@g1a", "1@g1b", "1@g1b"], channel.Sent);
        Assert.Equal(1, channel.Queries); // the configuration is cached
    }

    [Fact]
    public async Task ARequestBeyondTheKvLimitsIsRefusedWithoutBeingSent()
    {
        var channel = new ScriptedChannel([Config(1, 1)], new());
        Assert.Equal(KvStatus.InvalidArgument, (await Client(channel).GetAsync("")).Status);
        Assert.Empty(channel.Sent);
    }
}
