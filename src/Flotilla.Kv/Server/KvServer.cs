using Flotilla.Kv.Protos;
using Flotilla.Kv.StateMachine;
using Flotilla.Kv.Storage;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;
using Google.Protobuf;

namespace Flotilla.Kv.Server;

/// <summary>
/// The KV service on a node's <see cref="RpcRouter"/>: methods <c>kv/get</c> and <c>kv/put</c>, payloads the protobuf
/// messages of protos/flotilla/kv.proto. Holds keys only; nothing per client.
/// <para>A malformed request (undecodable bytes, empty or oversized key, oversized value) makes the handler throw
/// <see cref="KvInvalidArgumentException"/>, which the caller sees as <see cref="RpcStatus.Failed"/> with the reason.</para>
/// </summary>
public sealed class KvServer : IRpcHandler
{
    public const string Service = "kv";
    public const string GetMethod = Service + "/get";
    public const string PutMethod = Service + "/put";

    private readonly KvRequestHandler _handler;

    /// <summary>Serves an in-memory state machine (or <paramref name="state"/>, e.g. one recovered from a log).</summary>
    public KvServer(NodeContext context, KvStateMachine? state = null, IKvLog? log = null)
    {
        _handler = new KvRequestHandler(state ?? new KvStateMachine(), log);
        context.Router.Map(Service, this);
    }

    public KvStateMachine State => _handler.State;

    public KvRequestHandler Handler => _handler;

    /// <summary>Builds a durable server: recovers the state from the node's disk first.</summary>
    public static async Task<(KvServer Server, KvDurableLog Log)> OpenDurableAsync(NodeContext context, KvDurableLogOptions? options = null)
    {
        options ??= new KvDurableLogOptions();
        options = options with { Time = context.Time, Log = options.Log ?? Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<KvDurableLog>(context.Logs) };
        var log = await KvDurableLog.OpenAsync(context.Storage, options);
        return (new KvServer(context, log.State, log), log);
    }

    public async ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        // `from` is deliberately unused: the server keeps no per-client state.
        switch (method)
        {
            case GetMethod:
            {
                var handled = await _handler.GetAsync(Decode(GetRequest.Parser, request), cancellationToken);
                return handled.Reply?.ToByteArray() ?? throw new KvInvalidArgumentException(handled.InvalidArgument!);
            }
            case PutMethod:
            {
                var handled = await _handler.PutAsync(Decode(PutRequest.Parser, request), cancellationToken);
                return handled.Reply?.ToByteArray() ?? throw new KvInvalidArgumentException(handled.InvalidArgument!);
            }
            default:
                throw new UnknownMethodException(method);
        }
    }

    public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message)
    {
        // The KV service has no one-way messages; drop them as a network would drop garbage.
    }

    private static T Decode<T>(MessageParser<T> parser, ReadOnlyMemory<byte> bytes) where T : IMessage<T> => KvWire.Parse(parser, bytes.Span);
}

/// <summary>A request was malformed and was not applied. The message says why, prefixed with "invalid argument: ".</summary>
public sealed class KvInvalidArgumentException(string why) : Exception(Prefix + why)
{
    public const string Prefix = "invalid argument: ";
}
