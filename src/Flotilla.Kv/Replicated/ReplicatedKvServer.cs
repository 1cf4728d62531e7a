using Flotilla.Kv.Protos;
using Flotilla.Kv.Server;
using Flotilla.Rsm;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Google.Protobuf;

namespace Flotilla.Kv.Replicated;

/// <summary>
/// One replica of the replicated KV: serves the same <c>kv/get</c> and <c>kv/put</c> methods (and bytes) as the
/// single-node <see cref="KvServer"/>, so the existing <see cref="Client.KvClient"/> talks to a group unchanged.
/// <list type="bullet">
/// <item>Put goes through the Raft log. Answered OK/ErrVersion/ErrNoKey once applied here; ErrWrongServer only when
/// the put certainly never applies (not proposed here, or overwritten by a newer leader), which is what lets the client
/// treat that answer as "not processed"; when the outcome is unknown (leadership lost meanwhile, timeout, shutdown)
/// the call fails, so the client counts the attempt as possibly applied and reports ErrMaybe if a retry then meets
/// ErrVersion.</item>
/// <item>Get is a ReadIndex read on the leader, served from the local state once it caught up; any failure is
/// ErrWrongServer (a read changes nothing, so it is always safe to retry elsewhere).</item>
/// </list>
/// </summary>
public sealed class ReplicatedKvServer : IRpcHandler
{
    private readonly NodeContext _ctx;
    private readonly ReplicatedStateMachine _rsm;
    private readonly ReplicatedKvService _service;

    private ReplicatedKvServer(NodeContext ctx, ReplicatedStateMachine rsm, ReplicatedKvService service)
    {
        _ctx = ctx;
        _rsm = rsm;
        _service = service;
    }

    /// <summary>Starts the replica (Raft group, state recovered from its snapshot and log) and maps service "kv".</summary>
    public static async Task<ReplicatedKvServer> StartAsync(NodeContext ctx, RsmOptions options, CancellationToken ct = default)
    {
        var service = new ReplicatedKvService();
        var rsm = await ReplicatedStateMachine.StartAsync(ctx, options, service, ct);
        var server = new ReplicatedKvServer(ctx, rsm, service);
        ctx.Router.Map(KvServer.Service, server);
        return server;
    }

    public ReplicatedStateMachine Rsm => _rsm;

    /// <summary>A deliberate bug for mutation checks (test-only, set by the simulated cluster); None in production.</summary>
    internal Testing.ReplicatedKvMutation Mutation { get; set; }

    /// <summary>This replica's copy of the data (read it on the node's scheduler).</summary>
    public StateMachine.KvStateMachine State => _service.State;

    /// <summary>Stops serving; calls in flight end as unknown-outcome failures.</summary>
    public async Task StopAsync()
    {
        _ctx.Router.Unmap(KvServer.Service);
        await _rsm.StopAsync();
    }

    public async ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        switch (method)
        {
            case KvServer.GetMethod:
                return (await GetAsync(Decode(GetRequest.Parser, request), cancellationToken)).ToByteArray();
            case KvServer.PutMethod:
                return await PutAsync(Decode(PutRequest.Parser, request), cancellationToken);
            default:
                throw new UnknownMethodException(method);
        }
    }

    public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message)
    {
        // The KV service has no one-way messages.
    }

    /// <summary>A linearizable get (ReadIndex); ERR_WRONG_SERVER when this replica cannot serve it. The typed entry
    /// point for the public gRPC service; <see cref="HandleCallAsync"/> is the same logic for the peer transport.</summary>
    public async Task<GetReply> GetAsync(GetRequest get, CancellationToken ct)
    {
        if (KvLimits.Validate(get) is { } why) throw new KvInvalidArgumentException(why);
        if (Mutation == Testing.ReplicatedKvMutation.LocalReadsWithoutReadIndex) return _service.State.Get(get.Key);
        var read = await _rsm.ReadAsync(() => _service.State.Get(get.Key), ct);
        return read.IsOk ? read.Value! : new GetReply { Error = KvError.ErrWrongServer, Leader = Hint() };
    }

    /// <summary>A put through the log; returns the encoded <see cref="PutReply"/>. Throws
    /// <see cref="KvOutcomeUnknownException"/> when it may or may not have applied.</summary>
    public async Task<ReadOnlyMemory<byte>> PutAsync(PutRequest put, CancellationToken ct)
    {
        if (KvLimits.Validate(put) is { } why) throw new KvInvalidArgumentException(why);
        var submitted = await _rsm.SubmitAsync(KvCommand.EncodePut(put), ct);
        if (submitted.IsOk) return submitted.Result; // the encoded PutReply the state machine produced
        if (submitted.DefinitelyNotApplied) return new PutReply { Error = KvError.ErrWrongServer, Leader = Hint() }.ToByteArray();
        throw new KvOutcomeUnknownException(submitted.Status);
    }

    /// <summary>The leader this replica knows of, for a wrong-server answer: saves the client a round of guessing. Null
    /// when it knows none, or believes itself leader (a leader that could not serve has nobody better to name). The
    /// address is filled by whoever knows the members' client addresses (the gRPC face); over the peer transport the id
    /// is the address.</summary>
    private LeaderHint? Hint() => _rsm.Leader is { } leader && leader != _ctx.Id ? new LeaderHint { Id = leader.Value } : null;

    private static T Decode<T>(MessageParser<T> parser, ReadOnlyMemory<byte> bytes) where T : IMessage<T> => KvWire.Parse(parser, bytes.Span);
}

/// <summary>The put was proposed but this replica cannot tell whether it applied (leadership lost, timeout,
/// shutdown). The caller sees a failed call, i.e. "no answer", and must assume it may have applied.</summary>
public sealed class KvOutcomeUnknownException(SubmitStatus status) : Exception($"put outcome unknown: {status}")
{
    public SubmitStatus Status { get; } = status;
}
