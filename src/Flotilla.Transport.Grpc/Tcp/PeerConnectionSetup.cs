using System.Net.Security;
using System.Net.Sockets;
using Flotilla.Runtime;

namespace Flotilla.Transport.Grpc.Tcp;

/// <summary>
/// Turns a fresh framed-TCP socket into the stream frames travel on: TLS first (when <see cref="PeerSecurity.Tls"/>
/// is set), then the <see cref="PeerHandshake"/> (when <see cref="PeerSecurity.Credentials"/> are), both within
/// <see cref="PeerSecurity.HandshakeTimeout"/>. Without either, the socket's own stream, as before.
/// </summary>
internal static class PeerConnectionSetup
{
    /// <summary>The dialling side; throws (and closes the socket) when TLS or the handshake fails.</summary>
    public static async Task<Stream> ConnectAsync(Socket socket, string host, PeerSecurity security, NodeId self, NodeId target, CancellationToken cancellationToken)
    {
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(security.HandshakeTimeout);
            if (security.Tls is { } tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = host,
                    ClientCertificates = [tls.Certificate],
                    RemoteCertificateValidationCallback = (_, certificate, _, errors) => TlsValidation.Accept(certificate, errors, tls.TrustedCa),
                }, limit.Token).ConfigureAwait(false);
            }
            if (security.Credentials is { } credentials) await PeerHandshake.ClientAsync(stream, credentials, self, target, limit.Token).ConfigureAwait(false);
            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The listening side: the stream and the authenticated member (null without credentials). Throws when
    /// TLS fails, the handshake is refused (<see cref="PeerHandshakeException"/>) or times out; the caller closes.</summary>
    public static async Task<(Stream Stream, NodeId? Member)> AcceptAsync(NetworkStream network, PeerSecurity security, NodeId self,
        Func<NodeId, bool> isMember, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(security.HandshakeTimeout);
        Stream stream = network;
        try
        {
            if (security.Tls is { } tls)
            {
                var ssl = new SslStream(network, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = tls.Certificate,
                    // Peers are mutual: every member presents the certificate it serves with.
                    ClientCertificateRequired = true,
                    RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                        TlsValidation.Accept(certificate, errors & ~SslPolicyErrors.RemoteCertificateNameMismatch, tls.TrustedCa),
                }, limit.Token).ConfigureAwait(false);
            }
            if (security.Credentials is not { } credentials) return (stream, null);
            var (member, refused) = await PeerHandshake.ServerAsync(stream, credentials, self, isMember, limit.Token).ConfigureAwait(false);
            return member is { } id ? (stream, id) : throw new PeerHandshakeException(PeerHandshake.Describe(refused!.Value));
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new PeerHandshakeException($"no handshake within {security.HandshakeTimeout.TotalSeconds:0.#} s");
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
