using Flotilla.Kv.Protos;
using Flotilla.Kv.StateMachine;
using Flotilla.Kv.Storage;

namespace Flotilla.Kv.Server;

/// <summary>The outcome of one request: a reply, or why the request is malformed (never applied).</summary>
public readonly record struct KvHandled<TReply>(TReply? Reply, string? InvalidArgument) where TReply : class
{
    public static KvHandled<TReply> Answer(TReply reply) => new(reply, null);
    public static KvHandled<TReply> Invalid(string why) => new(null, why);
}

/// <summary>
/// The single-node server logic, shared by both runtimes: the simulated one reaches it through
/// <see cref="KvServer"/> (ITransport bytes), the real one through <see cref="KvGrpcService"/> (typed gRPC).
/// Runs on the node's scheduler, one call at a time.
/// <para>With a log, every reply waits until everything applied so far is durable, so no client — not even a reader
/// who saw someone else's put — observes state a crash could take back.</para>
/// </summary>
public sealed class KvRequestHandler(KvStateMachine state, IKvLog? log = null)
{
    public KvStateMachine State => state;

    public async Task<KvHandled<GetReply>> GetAsync(GetRequest request, CancellationToken cancellationToken = default)
    {
        if (KvLimits.Validate(request) is { } why) return KvHandled<GetReply>.Invalid(why);
        var reply = state.Get(request.Key);
        await WaitDurableAsync(cancellationToken);
        return KvHandled<GetReply>.Answer(reply);
    }

    public async Task<KvHandled<PutReply>> PutAsync(PutRequest request, CancellationToken cancellationToken = default)
    {
        if (KvLimits.Validate(request) is { } why) return KvHandled<PutReply>.Invalid(why);
        if (log is not null) await log.EnsureWritableAsync(cancellationToken);
        var reply = state.Apply(request);
        if (reply.Error == KvError.Ok) log?.Append(request);
        await WaitDurableAsync(cancellationToken);
        return KvHandled<PutReply>.Answer(reply);
    }

    private ValueTask WaitDurableAsync(CancellationToken cancellationToken) =>
        log is null ? ValueTask.CompletedTask : log.WaitDurableAsync(log.LastAppended, cancellationToken);
}
