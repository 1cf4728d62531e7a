using Flotilla.Kv.Client;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.ShardKv.Controller;
using Flotilla.ShardKv.Group;
using Flotilla.ShardKv.Rpc;
using Microsoft.Extensions.Logging;

namespace Flotilla.ShardKv.Server;

/// <summary>
/// Moves one replica group through the controller's configurations. Runs on every replica, on the node's scheduler,
/// every <see cref="ShardGroupOptions.PollInterval"/>, but acts only while its RSM leads; everything it decides goes
/// through the group's log, so a driver that loses leadership mid-step can only propose commands the state machine
/// then ignores (stale, duplicate). One step:
/// <list type="number">
/// <item>Settled (nothing pulling, offering or awaiting deletion): ask the controller for configuration current+1 and
/// propose it. Configurations are therefore taken strictly in order, each only after the previous move finished.</item>
/// <item>Otherwise, per previous owner concurrently (one owner down does not hold up shards from the others):
/// pull the gained shards (<c>pull(n, shards)</c>), propose one install per shard (each serves once its own install
/// applies); for installed shards, tell the previous owner to delete its copy and, once it says every copy is gone,
/// propose the confirmation that makes the shard plain Serving.</item>
/// </list>
/// </summary>
internal sealed class ShardGroupDriver(NodeContext ctx, ShardGroupOptions options, ReplicatedStateMachine rsm, ShardGroupService service, IShardChannel channel)
{
    private readonly ILogger _log = ctx.Logs.CreateLogger($"shardkv.{options.Gid}.driver");
    private readonly Dictionary<int, int> _preferred = new();
    /// <summary>Pulls from each previous owner that failed in a row: a pull that can never succeed (a shard larger than a
    /// message may carry) must not leave its shards Pulling without a word.</summary>
    private readonly Dictionary<int, int> _pullFailures = new();
    private int _controller;
    private bool _stopped;

    public long Errors { get; private set; }

    public void Start() => ctx.Post(() => _ = RunAsync());

    public void Stop() => _stopped = true;

    private async Task RunAsync()
    {
        while (!_stopped && !rsm.IsStopped)
        {
            await Task.Delay(options.PollInterval, ctx.Time);
            if (_stopped || !rsm.IsLeader) continue;
            try
            {
                await StepAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A bug, not weather: count it (the scenarios require zero) and keep the group moving.
                Errors++;
                _log.LogError(e, "group {Gid}: driver step failed", options.Gid);
            }
        }
    }

    private async Task StepAsync()
    {
        var current = service.Current;
        if (service.Settled)
        {
            await AdvanceAsync(current.Num + 1);
            return;
        }
        var work = new List<Task>();
        foreach (var from in service.ShardsToPull().GroupBy(p => p.From))
            work.Add(PullAsync(current.Num, from.Key, from.Select(p => p.Shard).ToArray()));
        foreach (var from in service.ShardsToConfirm().GroupBy(p => p.From))
            work.Add(ConfirmAsync(current.Num, from.Key, from.Select(p => p.Shard).ToArray()));
        await InOrder.AwaitAll(work);
    }

    private async Task AdvanceAsync(int next)
    {
        for (var i = 0; i < options.Controllers.Count; i++)
        {
            var endpoint = options.Controllers[_controller];
            var call = await channel.QueryAsync(endpoint, next, options.RpcTimeout, CancellationToken.None);
            if (call.Reply is { Error: ControllerError.Ok, Config: { } config })
            {
                if (config.Num != next) return; // the controller has nothing newer yet
                await rsm.SubmitAsync(GroupCommand.NextConfig(config.ToConfig()));
                return;
            }
            _controller = (_controller + 1) % options.Controllers.Count;
        }
    }

    private async Task PullAsync(int num, int from, int[] shards)
    {
        var reply = await CallGroupAsync(from, (e, t) => channel.PullAsync(e, from, new ShardMoveRequest { Num = num, Shards = shards }, t, CancellationToken.None));
        if (reply is not { Status: ShardStatus.Ok, Data: { } data })
        {
            var failures = _pullFailures[from] = _pullFailures.GetValueOrDefault(from) + 1;
            if (failures == 3 || failures % 50 == 0)
                _log.LogWarning("group {Gid}: pulling shards {Shards} of configuration {Num} from group {From} failed {Failures} times in a row ({Reply}); they stay Pulling and unavailable until it succeeds",
                    options.Gid, string.Join(",", shards), num, from, failures, reply is null ? "no member answered" : reply.Status.ToString());
            return;
        }
        _pullFailures.Remove(from);
        // One install per shard, so each serves as soon as its own entry applies.
        await InOrder.AwaitAll(data.Where(d => shards.Contains(d.Key)).Select(d => rsm.SubmitAsync(GroupCommand.Install(num, d.Key, d.Value))));
    }

    private async Task ConfirmAsync(int num, int from, int[] shards)
    {
        var reply = await CallGroupAsync(from, (e, t) => channel.DeleteAsync(e, from, new ShardMoveRequest { Num = num, Shards = shards }, t, CancellationToken.None));
        if (reply is not { Status: ShardStatus.Ok }) return;
        await InOrder.AwaitAll(shards.Select(s => rsm.SubmitAsync(GroupCommand.Confirm(num, s))));
    }

    /// <summary>Tries the members of <paramref name="gid"/> (as the previous configuration lists them), starting with
    /// the one that answered last, until one answers other than WrongServer; null when none did.</summary>
    private async Task<ShardMoveReply?> CallGroupAsync(int gid, Func<string, TimeSpan, Task<KvCall<ShardMoveReply>>> call)
    {
        if (!service.Previous.Groups.TryGetValue(gid, out var endpoints) || endpoints.Count == 0) return null;
        var start = _preferred.GetValueOrDefault(gid) % endpoints.Count;
        for (var i = 0; i < endpoints.Count; i++)
        {
            var index = (start + i) % endpoints.Count;
            var result = await call(endpoints[index], options.RpcTimeout);
            if (result.Reply is { Status: not ShardStatus.WrongServer } reply)
            {
                _preferred[gid] = index;
                return reply;
            }
        }
        return null;
    }
}
