using System.Text;
using Flotilla.Runtime.Network;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>TLS between peers (framed TCP over SslStream, gRPC over https) with certificates made at run time.</summary>
public sealed class PeerTlsTests
{
    [Fact]
    public async Task FramedTcpPeersTalkOverMutualTlsWithTheClusterSecret()
    {
        var ca = new TestCertificates();
        await using var nodes = new SecureNodes(PeerProtocol.Tcp);
        var security = new PeerSecurity { Credentials = SecureNodes.Credentials(), Tls = ca.Settings() };
        var (a, _) = await nodes.StartAsync(1, security);
        var (b, inbox) = await nodes.StartAsync(2, security with { Tls = ca.Settings() });
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var reply = await a.Transport.CallAsync(b.Id, "test/echo", "over tls"u8.ToArray(), deadline.Token);
        a.Transport.Send(b.Id, "test/note", "sealed"u8.ToArray());

        Assert.Equal(RpcStatus.Ok, reply.Status);
        Assert.Equal("over tls", Encoding.UTF8.GetString(reply.Payload.Span));
        await Wait.UntilAsync(() => !inbox.Messages.IsEmpty, "the one-way message over TLS");
    }

    [Fact]
    public async Task APeerWhoseCertificateAnotherCaSignedIsRefused()
    {
        var (ours, theirs) = (new TestCertificates("our CA"), new TestCertificates("their CA"));
        await using var nodes = new SecureNodes(PeerProtocol.Tcp);
        var (a, _) = await nodes.StartAsync(1, new PeerSecurity
        {
            Credentials = SecureNodes.Credentials(),
            Tls = theirs.Settings() with { TrustedCa = ours.Trust }, // trusts us, but its own certificate is theirs
        });
        var (b, inbox) = await nodes.StartAsync(2, new PeerSecurity { Credentials = SecureNodes.Credentials(), Tls = ours.Settings() });
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var reply = await a.Transport.CallAsync(b.Id, "test/echo", "hi"u8.ToArray(), deadline.Token);

        Assert.Equal(RpcStatus.Unavailable, reply.Status);
        Assert.Equal(0, inbox.Invocations);
    }

    [Fact]
    public async Task GrpcPeersTalkOverHttpsWhenTheKestrelPortHasTls()
    {
        var ca = new TestCertificates();
        await using var nodes = new SecureNodes(PeerProtocol.Grpc);
        var security = new PeerSecurity { Credentials = SecureNodes.Credentials(), Tls = ca.Settings() };
        var (a, _) = await nodes.StartAsync(1, security, clientTls: ca.Settings());
        var (b, _) = await nodes.StartAsync(2, security, clientTls: ca.Settings());
        using var deadline = new CancellationTokenSource(Wait.Deadline);

        var reply = await a.Transport.CallAsync(b.Id, "test/echo", "https"u8.ToArray(), deadline.Token);

        Assert.Equal("https", b.Address.Scheme);
        Assert.Equal(RpcStatus.Ok, reply.Status);
    }
}
