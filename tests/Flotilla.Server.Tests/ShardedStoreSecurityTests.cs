using System.Text.Json;
using Flotilla.Cli.Commands;
using Flotilla.Server.Cluster;
using Flotilla.Server.Sharding;
using Flotilla.ShardGroup.Protos;
using Flotilla.ShardKv;
using Flotilla.ShardKv.Rpc;
using Flotilla.Transport.Grpc;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Server.Tests;

/// <summary>A sharded store of real processes against a stray local gRPC client: the group-to-group migration calls
/// (pull exports a shard's data, delete drops it) need the cluster's credentials, and the sharded Kv service refuses
/// malformed requests with INVALID_ARGUMENT, as the replicated one does.</summary>
public sealed class ShardedStoreSecurityTests : IAsyncLifetime
{
    private ShardedLocalCluster _cluster = null!;
    private string _directory = "";

    public async Task InitializeAsync() => (_cluster, _directory) = await ShardedClusterFixture.StartAsync(groups: 1);

    public Task DisposeAsync() => ShardedClusterFixture.StopAsync(_cluster, _directory);

    private static async Task<(int Code, string Out)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var code = await FlotillaCommand.RunAsync(args, output, output);
        return (code, output.ToString());
    }

    private static Task<GroupCallReply> CallAsync(GrpcChannel channel, string method, int shard, Metadata? headers, ClusterCredentials? credentials = null)
    {
        var request = new GroupCallRequest { Gid = 1, Method = method, Payload = ByteString.CopyFrom(new ShardMoveRequest { Num = 1, Shards = [shard] }.Encode()) };
        if (credentials is not null)
            headers = new Metadata { { ClusterCallProof.Header, ClusterCallProof.Compute(credentials, GrpcShardChannel.GroupCallPurpose, GrpcShardChannel.GroupCallMessage(request)) } };
        return new ShardGroup.Protos.ShardGroup.ShardGroupClient(channel).CallAsync(request, headers, DateTime.UtcNow.AddSeconds(20)).ResponseAsync;
    }

    [Fact]
    public async Task MigrationCallsWithoutTheClusterSecretAreRefusedAndTheShardKeepsItsData()
    {
        var file = _cluster.ClusterFilePath;
        var (put, putOutput) = await RunAsync("kv", "put", "precious", "v1", "--version", "0", "--cluster", file, "--timeout", "20s");
        Assert.True(put == 0, putOutput);
        var shard = ShardMap.ShardOf("precious", 16);
        var otherCluster = new ClusterCredentials(_cluster.Processes.ClusterId, "not the cluster's secret, but long"u8);
        var sameSecretOtherId = ClusterCredentials.FromFile("another-cluster", ClusterSecrets.SecretFile(_directory));
        var forged = new Metadata { { ClusterCallProof.Header, Convert.ToBase64String(new byte[32]) } };

        foreach (var address in _cluster.Processes.Addresses.Values)
        {
            using var channel = GrpcChannel.ForAddress(address);
            foreach (var method in new[] { "delete", "pull" })
            {
                var bare = await Assert.ThrowsAsync<RpcException>(() => CallAsync(channel, method, shard, headers: null));
                Assert.True(bare.StatusCode == StatusCode.Unauthenticated, $"{address} {method} without credentials: {bare.Status}");
                foreach (var (what, attempt) in new (string, Func<Task<GroupCallReply>>)[]
                         {
                             ("a forged proof", () => CallAsync(channel, method, shard, forged)),
                             ("another secret", () => CallAsync(channel, method, shard, null, otherCluster)),
                             ("another cluster id", () => CallAsync(channel, method, shard, null, sameSecretOtherId)),
                         })
                {
                    var refused = await Assert.ThrowsAsync<RpcException>(attempt);
                    Assert.True(refused.StatusCode == StatusCode.PermissionDenied, $"{address} {method} with {what}: {refused.Status}");
                }
            }
            // The status call (flotilla shard status) stays open: it shows states, not data.
            var status = await new ShardGroup.Protos.ShardGroup.ShardGroupClient(channel).StatusAsync(new GroupStatusRequest { Gid = 1 });
            Assert.True(status.Hosted);
        }

        // The shard was neither deleted nor taken offline: the key reads back, and every replica still serves the shard.
        var (get, getOutput) = await RunAsync("kv", "get", "precious", "--cluster", file, "--json", "--timeout", "20s");
        Assert.True(get == 0, getOutput);
        Assert.Equal("v1", JsonDocument.Parse(getOutput).RootElement.GetProperty("value").GetString());
        foreach (var address in _cluster.Processes.Addresses.Values)
        {
            using var channel = GrpcChannel.ForAddress(address);
            var status = await new ShardGroup.Protos.ShardGroup.ShardGroupClient(channel).StatusAsync(new GroupStatusRequest { Gid = 1 });
            Assert.Equal("Serving", status.States[shard]);
        }

        // With the cluster's credentials the same call is answered (what the servers' own drivers send).
        var member = ClusterCredentials.FromFile(_cluster.Processes.ClusterId, ClusterSecrets.SecretFile(_directory));
        using (var channel = GrpcChannel.ForAddress(_cluster.Processes.Addresses[1]))
            Assert.True((await CallAsync(channel, "pull", shard, null, member)).Handled);
    }

    public static TheoryData<string, string, byte[], string> Malformed => new()
    {
        { "Get", "invalid UTF-8 key", [0x0A, 0x02, 0xC3, 0x28], "key is not valid UTF-8" },
        { "Put", "invalid UTF-8 key", [0x0A, 0x02, 0xFF, 0xFE, 0x12, 0x01, 0x76], "key is not valid UTF-8" },
        { "Put", "garbage", [0xFF, 0xFF, 0xFF, 0xFF], "malformed PutRequest" },
        { "Get", "truncated string", [0x0A, 0x05, 0x61], "malformed GetRequest" },
    };

    [Fact]
    public async Task MalformedKvRequestsToAShardedServerAreInvalidArgument()
    {
        using var channel = GrpcChannel.ForAddress(_cluster.Processes.Addresses[1]);
        foreach (var row in Malformed)
        {
            var (method, what, bytes, reason) = ((string)row[0], (string)row[1], (byte[])row[2], (string)row[3]);
            var raw = new Method<byte[], byte[]>(MethodType.Unary, "flotilla.kv.v1.Kv", method, Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
                await channel.CreateCallInvoker().AsyncUnaryCall(raw, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20)), bytes));
            Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{what}: {error.StatusCode} {error.Status.Detail}");
            Assert.Contains(reason, error.Status.Detail);
        }
        // And the server still serves well-formed requests.
        var (put, output) = await RunAsync("kv", "put", "fine", "v", "--version", "0", "--cluster", _cluster.ClusterFilePath, "--timeout", "20s");
        Assert.True(put == 0, output);
    }

    [Fact]
    public async Task JoinLeaveAndMoveNeedTheAdminTokenAndQueryStaysOpen()
    {
        var endpoints = _cluster.Processes.File.Endpoints.Select(e => new Uri(e)).ToList();
        using var anonymous = new ShardCtlClient(endpoints);
        using var wrong = new ShardCtlClient(endpoints, "not the admin token, but long enough");
        var before = await anonymous.QueryAsync(-1, TimeSpan.FromSeconds(20));
        Assert.True(before.IsOk, $"query without a token: {before.Status} {before.Error}");
        var groups = new Dictionary<int, IReadOnlyList<string>> { [7] = ["http://127.0.0.1:1"] };
        foreach (var (client, expected) in new[] { (anonymous, StatusCode.Unauthenticated), (wrong, StatusCode.PermissionDenied) })
        {
            var timeout = TimeSpan.FromSeconds(20);
            foreach (var (what, change) in new (string, Func<Task<ShardCtlResult>>)[]
                     {
                         ("join", () => client.JoinAsync(groups, timeout)),
                         ("leave", () => client.LeaveAsync([1], timeout)),
                         ("move", () => client.MoveAsync(0, 1, timeout)),
                     })
            {
                var result = await change();
                Assert.True(result.Refused == expected, $"{what}: {result.Refused} {result.Status} {result.Error}, expected {expected}");
                Assert.False(result.MayHaveApplied);
            }
        }

        // The CLI: one line and exit 1 for each refusal; the token cluster.json names is sent by default.
        var file = _cluster.ClusterFilePath;
        var noToken = Path.Combine(_directory, "cluster-without-token.json");
        (ShardedClusterFile.Load(file) with { AdminTokenFile = null }).Save(noToken);
        var wrongToken = Path.Combine(_directory, "wrong.token");
        SecretFile.Write(wrongToken, "not the admin token, but long enough");
        var (missing, missingOutput) = await RunAsync("shard", "move", "0", "1", "--cluster", noToken, "--timeout", "20s");
        Assert.True(missing == 1, missingOutput);
        Assert.Equal("flotilla: error: refused: changing the store needs the admin token (give --admin-token-file, or a cluster.json that names it)", missingOutput.Trim());
        var (denied, deniedOutput) = await RunAsync("shard", "leave", "1", "--cluster", file, "--admin-token-file", wrongToken, "--timeout", "20s");
        Assert.True(denied == 1, deniedOutput);
        Assert.Equal("flotilla: error: refused: wrong admin token (--admin-token-file)", deniedOutput.Trim());
        var after = await anonymous.QueryAsync(-1, TimeSpan.FromSeconds(20));
        Assert.Equal(before.Config!.Num, after.Config!.Num); // nothing refused reached the controller

        var (moved, movedOutput) = await RunAsync("shard", "move", "0", "1", "--cluster", file, "--timeout", "20s");
        Assert.True(moved == 0, movedOutput);
        Assert.StartsWith("ok: shard 0 moves to group 1", movedOutput.Trim());
        var (status, statusOutput) = await RunAsync("shard", "status", "--cluster", noToken, "--json"); // open, no token
        Assert.True(status == 0, statusOutput);
    }
}
