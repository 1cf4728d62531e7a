using Flotilla.Kv;
using Flotilla.Kv.Protos;
using Flotilla.Kv.Replicated;
using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Transport.Grpc;

namespace Flotilla.Server.Tests;

/// <summary>The peer transport's message limit (which also caps a framed-TCP frame) still carries Raft's largest
/// legitimate messages at the server's defaults: a full append batch, an append of one largest KV put, and a
/// snapshot chunk, each with room for the framing.</summary>
public sealed class PeerMessageLimitTests
{
    private static readonly int Limit = new GrpcTransportOptions().MaxMessageBytes;
    private static readonly RaftNodeOptions Raft = new() { GroupId = "kv", Voters = [new NodeId(1)] };

    private static Message Append(IReadOnlyList<LogEntry> entries) => new()
    {
        Type = MessageType.Append, From = new NodeId(1), To = new NodeId(2), Term = ulong.MaxValue, Index = ulong.MaxValue,
        LogTerm = ulong.MaxValue, Commit = ulong.MaxValue, Entries = entries,
    };

    [Fact]
    public void AnAppendOfTheLargestKvPutFits()
    {
        var put = new PutRequest { Key = new string('k', KvLimits.KeyBytesMax), Value = new string('v', KvLimits.ValueBytesMax), Version = ulong.MaxValue - 1 };
        var entry = new LogEntry(ulong.MaxValue, ulong.MaxValue, EntryKind.Normal, KvCommand.EncodePut(put));

        var bytes = MessageCodec.Encode(Append([entry])).Length;

        Assert.True(bytes + 64 * 1024 <= Limit, $"an append of one largest put is {bytes} bytes; the limit is {Limit}");
    }

    [Fact]
    public void AFullAppendBatchFits()
    {
        // Entries of 1 byte maximise the per-entry overhead within MaxAppendBytes (an entry counts Data + 24 bytes).
        var entries = Enumerable.Range(0, Raft.MaxAppendBytes / 25 + 1)
            .Select(i => new LogEntry(ulong.MaxValue - (ulong)i, ulong.MaxValue, EntryKind.Normal, new byte[1])).ToList();

        var bytes = MessageCodec.Encode(Append(entries)).Length;

        Assert.True(bytes + 64 * 1024 <= Limit, $"a full append batch is {bytes} bytes; the limit is {Limit}");
    }

    [Fact]
    public void ASnapshotChunkFits()
    {
        var chunk = new Message
        {
            Type = MessageType.Snapshot, From = new NodeId(1), To = new NodeId(2), Term = ulong.MaxValue,
            SnapshotMeta = new SnapshotMeta(ulong.MaxValue, ulong.MaxValue, Enumerable.Range(1, 9).Select(i => new NodeId(i)).ToList()),
            SnapshotOffset = ulong.MaxValue, SnapshotData = new byte[Raft.SnapshotChunkBytes],
        };

        var bytes = MessageCodec.Encode(chunk).Length;

        Assert.True(bytes + 64 * 1024 <= Limit, $"a snapshot chunk is {bytes} bytes; the limit is {Limit}");
    }
}
