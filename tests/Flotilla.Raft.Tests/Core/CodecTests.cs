using Flotilla.Raft;
using Flotilla.Runtime;

namespace Flotilla.Raft.Tests.Core;

public class CodecTests
{
    private static Message Sample() => new()
    {
        Type = MessageType.Snapshot, From = new(3), To = new(-1), Term = ulong.MaxValue, LogTerm = 7, Index = 1UL << 40,
        Commit = 12, Reject = true, RejectHint = 5, Force = true, Context = 99,
        Entries = [new LogEntry(1, 2, EntryKind.Normal, new byte[] { 1, 2, 3 }), new LogEntry(2, 2, EntryKind.Noop, ReadOnlyMemory<byte>.Empty)],
        SnapshotMeta = new SnapshotMeta(10, 4, [new(1), new(2)]), SnapshotOffset = 4096, SnapshotData = new byte[] { 9, 8 }, SnapshotDone = true,
    };

    [Fact]
    public void EveryFieldSurvivesARoundTrip()
    {
        var m = Sample();
        var back = MessageCodec.Decode(MessageCodec.Encode(m).Span);
        Assert.Equal(m.ToString(), back.ToString());
        Assert.Equal(m.Entries.Select(e => e.Data.ToArray()), back.Entries.Select(e => e.Data.ToArray()));
        Assert.Equal(m.SnapshotMeta!.Voters, back.SnapshotMeta!.Voters);
        Assert.Equal(m.SnapshotData.ToArray(), back.SnapshotData.ToArray());
        Assert.Equal((m.Force, m.Reject, m.SnapshotDone, m.Context), (back.Force, back.Reject, back.SnapshotDone, back.Context));
    }

    [Fact]
    public void AJointMembershipInASnapshotChunkSurvivesARoundTrip()
    {
        var joint = new MembershipConfig(new JointConfig(new MajorityConfig([new(1), new(2), new(4)]), new MajorityConfig([new(1), new(2), new(3)])),
            learners: [new(5)], learnersNext: [new(3)], autoLeave: true);
        var m = Sample() with { SnapshotMeta = new SnapshotMeta(10, 4, joint) };
        var back = MessageCodec.Decode(MessageCodec.Encode(m).Span);
        Assert.Equal(joint, back.SnapshotMeta!.Membership);
        Assert.Equal("voters=(1 2 4)&&(1 2 3) learners=(5) learners_next=(3) autoleave", back.SnapshotMeta.Membership.ToString());
    }

    [Fact]
    public void APlainMembershipIsEncodedExactlyAsBeforeMembershipChanges()
    {
        // Version-1 layout: flags without the membership bit, then the voter list and the chunk; payload version 1.
        var m = Sample();
        var bytes = MessageCodec.Encode(m).Span;
        Assert.Equal(0, bytes[2] & 16);
        var payload = StateCodec.EncodeSnapshotPayload(new RaftSnapshot(m.SnapshotMeta!, new byte[] { 7 }));
        Assert.Equal(new byte[] { 1, 2, 2, 4, 1, 7 }, payload); // version, 2 voters (zig-zag 1, 2), 1-byte state
    }

    [Fact]
    public void AConfChangeEntryRoundTripsThroughTheStorageEncoding()
    {
        var change = new ConfChange(ConfChangeTransition.JointExplicit, [new(ConfChangeType.AddVoter, new(4)), new(ConfChangeType.Remove, new(1))]) { Context = new byte[] { 1, 2 } };
        var entry = new LogEntry(9, 3, EntryKind.ConfChange, ConfChangeCodec.Encode(change));
        var back = EntryCodec.DecodePayload(9, 3, EntryCodec.EncodePayload(entry));
        Assert.Equal(EntryKind.ConfChange, back.Kind);
        var decoded = ConfChangeCodec.Decode(back.Data.Span);
        Assert.Equal(change.ToString(), decoded.ToString());
        Assert.Equal(new byte[] { 1, 2 }, decoded.Context.ToArray());
        // Older entries keep decoding: the kinds' bytes did not move.
        Assert.Equal(EntryKind.Normal, EntryCodec.DecodePayload(1, 1, new byte[] { 1, 42 }).Kind);
        Assert.Equal(EntryKind.Noop, EntryCodec.DecodePayload(1, 1, new byte[] { 2 }).Kind);
    }

    [Fact]
    public void HeartbeatIsCompact()
    {
        var hb = new Message { Type = MessageType.Heartbeat, From = new(1), To = new(2), Term = 3, Commit = 1000 };
        Assert.True(MessageCodec.Encode(hb).Length <= 16);
    }

    [Fact]
    public void EveryTruncationIsRejectedWithACodecException()
    {
        var bytes = MessageCodec.Encode(Sample()).ToArray();
        for (var n = 0; n < bytes.Length; n++)
            Assert.Throws<RaftCodecException>(() => MessageCodec.Decode(bytes.AsSpan(0, n)));
    }

    [Fact]
    public void RandomGarbageNeverEscapesAsAnythingButACodecException()
    {
        var random = new Random(1);
        var valid = MessageCodec.Encode(Sample()).ToArray();
        for (var i = 0; i < 20_000; i++)
        {
            byte[] input;
            if (i % 2 == 0)
            {
                input = new byte[random.Next(0, 64)];
                random.NextBytes(input);
            }
            else
            {
                input = (byte[])valid.Clone();
                for (var k = 0; k < 3; k++) input[random.Next(input.Length)] = (byte)random.Next(256);
            }
            try { MessageCodec.Decode(input); }
            catch (RaftCodecException) { }
        }
    }

    [Fact]
    public void HugeDeclaredLengthsAreRejectedWithoutAllocating()
    {
        // Version, type Append, no flags, ids, seven zero varints, then an entry count of 2^62.
        byte[] bytes = [MessageCodec.Version, (byte)MessageType.Append, 0, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40];
        Assert.Throws<RaftCodecException>(() => MessageCodec.Decode(bytes));
    }

    [Fact]
    public void TrailingBytesAreRejected()
    {
        var bytes = MessageCodec.Encode(new Message { Type = MessageType.Heartbeat, From = new(1), To = new(2) }).ToArray();
        Assert.Throws<RaftCodecException>(() => MessageCodec.Decode([.. bytes, 0]));
    }
}

public class MalformedStepTests
{
    [Fact]
    public void AppendWithNonConsecutiveEntriesIsDroppedNotThrown()
    {
        var core = new RaftCore(new RaftConfig { Id = new NodeId(2), Voters = [new(1), new(2), new(3)] }, new Random(1));
        core.Step(new Message
        {
            Type = MessageType.Append, From = new(1), To = new(2), Term = 1, Index = 0, LogTerm = 0,
            Entries = [new LogEntry(1, 1, EntryKind.Normal, new byte[1]), new LogEntry(5, 1, EntryKind.Normal, new byte[1])],
        });
        Assert.Equal(0UL, core.LastIndex);
    }

    [Fact]
    public void AcknowledgementBeyondTheLeadersLogIsIgnored()
    {
        var core = new RaftCore(new RaftConfig { Id = new NodeId(1), Voters = [new(1), new(2), new(3)], PreVote = false }, new Random(1));
        core.Campaign(force: false);
        core.Advance(core.Ready());
        core.Step(new Message { Type = MessageType.VoteResponse, From = new(2), To = new(1), Term = 1 });
        core.Advance(core.Ready());
        core.Step(new Message { Type = MessageType.AppendResponse, From = new(2), To = new(1), Term = 1, Index = 1_000_000 });
        Assert.Equal(RaftRole.Leader, core.Role);
        Assert.True(core.CommitIndex <= core.LastIndex);
    }
}
