using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Cli.Bench.Etcd;

/// <summary>
/// Drives an etcd cluster through its gRPC KV API (the <c>etcdserverpb.KV</c> stubs shipped in dotnet-etcd) with the
/// same engine as Flotilla: writes are <c>Put</c>, reads are <c>Range</c> on one key with <c>serializable=false</c>,
/// etcd's default, which is linearizable (a ReadIndex round through the leader).
/// <para>Deliberately not dotnet-etcd's <c>EtcdClient</c>: it adds its own balancing and retries, which would hide
/// what we measure. Each session owns its channels (one HTTP/2 connection per endpoint it uses), like Flotilla's.</para>
/// </summary>
public sealed class EtcdBenchTarget(IReadOnlyList<Uri> endpoints, bool recordPreviousVersion) : IBenchTarget
{
    public string Name => "etcd";

    public string Description => string.Join(",", endpoints.Select(e => e.Authority));

    public IBenchSession OpenSession(int clientIndex, TimeSpan requestTimeout) =>
        new Session(endpoints, clientIndex % endpoints.Count, requestTimeout, recordPreviousVersion);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Session(IReadOnlyList<Uri> endpoints, int first, TimeSpan requestTimeout, bool recordPreviousVersion) : IBenchSession
    {
        private readonly GrpcChannel?[] _channels = new GrpcChannel?[endpoints.Count];
        private readonly KV.KVClient?[] _clients = new KV.KVClient?[endpoints.Count];
        private int _current = first;

        public async Task<BenchRead> GetAsync(string key, CancellationToken cancellationToken)
        {
            try
            {
                var reply = await Client().RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, Options(cancellationToken));
                return reply.Kvs.Count == 0
                    ? new BenchRead(BenchStatus.ErrNoKey)
                    : new BenchRead(BenchStatus.Ok, reply.Kvs[0].Value.ToStringUtf8(), reply.Kvs[0].Version);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                var detail = Describe(e);
                return new BenchRead(Classify(e), Detail: detail);
            }
        }

        public async Task<BenchWrite> PutAsync(string key, string value, long expectedVersion, CancellationToken cancellationToken)
        {
            try
            {
                var request = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value), PrevKv = recordPreviousVersion };
                var reply = await Client().PutAsync(request, Options(cancellationToken));
                // Blind put: it overwrote whatever was there. With prev_kv we know exactly which version that was
                // (absent = 0), which lets a history record it as the equivalent conditional put.
                long? previous = recordPreviousVersion ? reply.PrevKv?.Version ?? 0 : null;
                return new BenchWrite(BenchStatus.Ok, previous);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                var detail = Describe(e);
                return new BenchWrite(Classify(e), Detail: detail);
            }
        }

        private CallOptions Options(CancellationToken cancellationToken) =>
            new(deadline: DateTime.UtcNow + requestTimeout, cancellationToken: cancellationToken);

        private KV.KVClient Client()
        {
            var i = _current;
            if (_clients[i] is { } client) return client;
            _channels[i] = GrpcChannel.ForAddress(endpoints[i]);
            return _clients[i] = new KV.KVClient(_channels[i]);
        }

        private BenchStatus Classify(RpcException e)
        {
            if (e.StatusCode is StatusCode.InvalidArgument or StatusCode.ResourceExhausted) return BenchStatus.Rejected;
            // No answer (deadline, refused, no leader): the next request tries the next member, as clientv3 would.
            _current = (_current + 1) % endpoints.Count;
            return BenchStatus.Unavailable;
        }

        private string Describe(RpcException e) => $"{endpoints[_current].Authority}: {Flotilla.Transport.Grpc.RpcErrorText.Describe(e)}";

        public ValueTask DisposeAsync()
        {
            foreach (var channel in _channels) channel?.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
