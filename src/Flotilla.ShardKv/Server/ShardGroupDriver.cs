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
/// pull each gained shard in pages by key cursor (<c>pull(n, shard, after, pageBytes)</c>), proposing each page as a
/// chunk entry (the shard serves once its final page applies); for installed shards, tell the previous owner to delete its copy and, once it says every copy is gone,
/// propose the confirmation that makes the shard plain Serving.</item>
/// </list>
/// </summary>
internal sealed class ShardGroupDriver(NodeContext ctx, ShardGroupOptions options, ReplicatedStateMachine rsm, ShardGroupService service, IShardChannel channel)
{
    private readonly ILogger _log = ctx.Logs.CreateLogger($"shardkv.{options.Gid}.driver");
    private readonly Dictionary<int, int> _preferred = new();
    /// <summary>Page pulls of each shard that failed in a row: a pull that keeps failing (an unreachable owner) must not
    /// leave its shard Pulling without a word.</summary>
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

    /// <summary>Pulls each shard gained from <paramref name="from"/> in pages, concurrently; each page goes through the
    /// log as a chunk entry, and the shard serves once its final page applies.</summary>
    private Task PullAsync(int num, int from, int[] shards) => InOrder.AwaitAll(shards.Select(s => PullShardAsync(num, from, s)));

    /// <summary>
    /// Page by page from the cursor the log has applied (so a new leader, or this one after a failed page, resumes
    /// where the replicated state is, not where some earlier leader's requests got to). Stops at the first failure;
    /// the next step retries from the applied cursor. The state machine ignores a page whose cursor is not the applied
    /// one, so a page proposed twice (a retry, two leaders for a moment) installs once.
    /// </summary>
    private async Task PullShardAsync(int num, int from, int shard)
    {
        while (!_stopped && rsm.IsLeader && service.Current.Num == num && service.StateOf(shard) == ShardState.Pulling)
        {
            var after = service.CursorOf(shard);
            var request = new ShardMoveRequest { Num = num, Shards = [shard], PageBytes = options.MigrationPageBytes, After = after };
            var reply = await CallGroupAsync(from, (e, t) => channel.PullAsync(e, from, request, t, CancellationToken.None));
            if (reply is not { Status: ShardStatus.Ok, Page: { } page } || !string.Equals(page.After, after, StringComparison.Ordinal))
            {
                var failures = _pullFailures[shard] = _pullFailures.GetValueOrDefault(shard) + 1;
                if (failures == 3 || failures % 50 == 0)
                    _log.LogWarning("group {Gid}: pulling shard {Shard} of configuration {Num} from group {From} (after key cursor {Cursor}) failed {Failures} times in a row ({Reply}); it stays Pulling and unavailable until it succeeds",
                        options.Gid, shard, num, from, after ?? "(start)", failures, reply is null ? "no member answered" : reply.Status.ToString());
                return;
            }
            _pullFailures.Remove(shard);
            var submitted = await rsm.SubmitAsync(GroupCommand.Chunk(num, shard, page));
            if (!submitted.IsOk || GroupReply.Decode(submitted.Result.Span).Status != GroupStatus.Ok) return;
        }
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
