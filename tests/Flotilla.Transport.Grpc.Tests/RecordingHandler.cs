using System.Collections.Concurrent;
using System.Text;
using Flotilla.Runtime;
using Flotilla.Runtime.Network;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>
/// A test service: "echo" returns the request, "fail" throws, "int" decodes exactly 4 bytes (so bad bytes throw).
/// Records one-way messages, and checks every invocation runs on the node's scheduler with no other invocation
/// running at the same time.
/// </summary>
internal sealed class RecordingHandler(NodeContext node) : IRpcHandler
{
    private int _running;

    public ConcurrentQueue<(NodeId From, string Method, byte[] Payload)> Messages { get; } = new();

    public int Invocations;
    public int OffScheduler;
    public int Overlaps;
    public int CancelledCalls;

    public async ValueTask<ReadOnlyMemory<byte>> HandleCallAsync(NodeId from, string method, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        Enter();
        try
        {
            switch (method)
            {
                case "test/echo":
                    return request.ToArray();
                case "test/fail":
                    throw new InvalidOperationException("handler exploded: " + Encoding.UTF8.GetString(request.Span));
                case "test/int":
                    if (request.Length != 4) throw new FormatException($"expected 4 bytes, got {request.Length}");
                    return BitConverter.GetBytes(BitConverter.ToInt32(request.Span) + 1);
                case "test/big":
                    return new byte[BitConverter.ToInt32(request.Span)];
                case "test/delay":
                    Exit();
                    try { await Task.Delay(BitConverter.ToInt32(request.Span), cancellationToken); }
                    finally { Enter(); }
                    return request.ToArray();
                case "test/slow":
                    Exit();
                    try { await Task.Delay(Timeout.Infinite, cancellationToken); }
                    catch (OperationCanceledException)
                    {
                        // The caller gave up and the transport told us: stop working on its behalf.
                        Interlocked.Increment(ref CancelledCalls);
                        throw;
                    }
                    finally { Enter(); }
                    return ReadOnlyMemory<byte>.Empty;
                default:
                    throw new UnknownMethodException(method);
            }
        }
        finally
        {
            Exit();
        }
    }

    public void HandleMessage(NodeId from, string method, ReadOnlyMemory<byte> message)
    {
        Enter();
        Messages.Enqueue((from, method, message.ToArray()));
        Exit();
    }

    private void Enter()
    {
        Interlocked.Increment(ref Invocations);
        if (SynchronizationContext.Current != node.Scheduler) Interlocked.Increment(ref OffScheduler);
        if (Interlocked.Increment(ref _running) != 1) Interlocked.Increment(ref Overlaps);
        // Widen the window in which an overlapping invocation would be caught.
        Thread.SpinWait(200);
    }

    private void Exit() => Interlocked.Decrement(ref _running);
}
