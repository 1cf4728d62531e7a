using System.Net;
using Flotilla.Kv.Hosting;
using Flotilla.Kv.Protos;
using Flotilla.Kv.Server;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flotilla.Kv.Tests.Real;

/// <summary>
/// Bytes that are not a request, on both paths into the server (typed gRPC, and the peer transport's bytes): each is
/// INVALID_ARGUMENT naming what is wrong, nothing is applied, and the server keeps serving.
/// </summary>
public sealed class MalformedRequestTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "flotilla-kv-" + Guid.NewGuid().ToString("N"));

    public static TheoryData<string, string, byte[], string> Malformed => new()
    {
        // tag (field 1, length-delimited), length, bytes
        { "Get", "invalid UTF-8 key", [0x0A, 0x02, 0xC3, 0x28], "key is not valid UTF-8" },
        { "Put", "invalid UTF-8 key", [0x0A, 0x02, 0xFF, 0xFE, 0x12, 0x01, 0x76], "key is not valid UTF-8" },
        { "Put", "invalid UTF-8 value", [0x0A, 0x01, 0x6B, 0x12, 0x03, 0xE2, 0x82, 0x28], "value is not valid UTF-8" },
        // field 3 (version, varint) with 11 continuation bytes: longer than any varint may be
        { "Put", "overlong varint", [0x0A, 0x01, 0x6B, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "malformed PutRequest" },
        { "Get", "overlong length varint", [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "malformed GetRequest" },
        { "Get", "truncated string", [0x0A, 0x05, 0x61], "malformed GetRequest" },
        { "Put", "wire type 7", [0x0F, 0x00], "malformed PutRequest" },
        { "Put", "garbage", [0xFF, 0xFF, 0xFF, 0xFF], "malformed PutRequest" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task MalformedRequestOverGrpcIsInvalidArgumentAndTheServerKeepsServing(string method, string what, byte[] bytes, string reason)
    {
        await using var server = await KvServerHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), _data);
        using var channel = GrpcChannel.ForAddress(server.Address);
        var raw = new Method<byte[], byte[]>(MethodType.Unary, "flotilla.kv.v1.Kv", method,
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await channel.CreateCallInvoker().AsyncUnaryCall(raw, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), bytes));

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{what}: {error.StatusCode} {error.Status.Detail}");
        Assert.Contains(reason, error.Status.Detail);
        var typed = new Protos.Kv.KvClient(channel);
        Assert.Equal(KvError.Ok, (await typed.PutAsync(new PutRequest { Key = "fine", Value = "v" })).Error);
        Assert.Equal(["fine"], server.Server.State.Keys());
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedRequestBytesAreInvalidArgumentOnThePeerTransportPathToo(string method, string what, byte[] bytes, string reason)
    {
        var error = Assert.Throws<KvInvalidArgumentException>(() =>
        {
            if (method == "Get") KvWire.Parse(GetRequest.Parser, bytes);
            else KvWire.Parse(PutRequest.Parser, bytes);
        });
        Assert.True(error.Message.Contains(reason), $"{what}: {error.Message}");
    }

    [Fact]
    public void WellFormedRequestsStillParse()
    {
        var put = new PutRequest { Key = "ключ", Value = "värde ✓", Version = 7 };
        Assert.Equal(put, KvWire.Parse(PutRequest.Parser, put.ToByteArray()));
        Assert.Equal(new GetRequest { Key = "k" }, KvWire.Parse(GetRequest.Parser, new GetRequest { Key = "k" }.ToByteArray()));
    }

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
