using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Server.WebConsole;

/// <summary>
/// The <c>console/status</c> call on the peer transport: a member answers with its <see cref="MemberStatus"/>, so any
/// member's console can show the whole cluster. It rides the authenticated peer connections (only members can ask)
/// and reveals only what the console shows anyway.
/// </summary>
internal sealed class ConsoleStatusService(Func<bool, MemberStatus> status) : IRpcHandler
{
    public const string Service = "console";
    public const string StatusMethod = "console/status";

    /// <summary>The request: empty for the status alone, this one byte for the status with the chart history.</summary>
    public static readonly byte[] WithHistory = [1];

    public ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken) =>
        method == StatusMethod
            ? ValueTask.FromResult<ReadOnlyMemory<byte>>(status(request.Span.SequenceEqual(WithHistory)).Encode())
            : throw new UnknownMethodException(method);

    public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message)
    {
        // No one-way messages.
    }
}
