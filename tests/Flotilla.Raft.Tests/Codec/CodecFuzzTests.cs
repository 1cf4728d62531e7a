using CsCheck;
using Flotilla.Runtime;
using Flotilla.Simulation.Fuzzing;

namespace Flotilla.Raft.Tests.Codec;

/// <summary>
/// Fuzzing the Raft codecs (CsCheck): random bytes and mutants of valid encodings of messages, entries, hard states
/// and snapshot payloads never throw anything but <see cref="RaftCodecException"/> (the documented "drop the input"
/// error); valid encodings round-trip. Bounded by iteration counts (about a second each).
/// </summary>
public sealed class CodecFuzzTests
{
    private static LogEntry RandomEntry(Random random, ulong index) =>
        new(index, (ulong)random.Next(1, 5), random.Next(2) == 0 ? EntryKind.Normal : EntryKind.Noop, RandomBytes(random, random.Next(0, 40)));

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static ulong RandomULong(Random random) => random.Next(3) switch
    {
        0 => (ulong)random.Next(0, 200),
        1 => (ulong)random.NextInt64(),
        _ => ulong.MaxValue - (ulong)random.Next(0, 3),
    };

    /// <summary>A random message of any type, shaped like what the core sends (snapshot chunks carry metadata).</summary>
    private static Message RandomMessage(Random random)
    {
        var type = (MessageType)random.Next(1, 12);
        var withSnapshot = type == MessageType.Snapshot || random.Next(8) == 0;
        var first = (ulong)random.Next(1, 1000);
        return new Message
        {
            Type = type,
            From = new NodeId(random.Next(-3, 10)),
            To = new NodeId(random.Next(int.MinValue, int.MaxValue)),
            Term = RandomULong(random), LogTerm = RandomULong(random), Index = RandomULong(random), Commit = RandomULong(random),
            Reject = random.Next(2) == 0, RejectHint = RandomULong(random), Force = random.Next(2) == 0, Context = RandomULong(random),
            Entries = Enumerable.Range(0, random.Next(0, 5)).Select(i => RandomEntry(random, first + (ulong)i)).ToList(),
            SnapshotMeta = withSnapshot ? new SnapshotMeta(RandomULong(random), RandomULong(random), Enumerable.Range(0, random.Next(0, 5)).Select(i => new NodeId(i + 1)).ToList()) : null,
            SnapshotOffset = RandomULong(random),
            SnapshotData = withSnapshot ? RandomBytes(random, random.Next(0, 60)) : ReadOnlyMemory<byte>.Empty,
            SnapshotDone = random.Next(2) == 0,
        };
    }

    private static RaftSnapshot RandomSnapshot(Random random) =>
        random.Next(2) == 0
            ? new(new SnapshotMeta(RandomULong(random), RandomULong(random), Enumerable.Range(0, random.Next(0, 6)).Select(i => new NodeId(random.Next(-5, 100))).ToList()),
                RandomBytes(random, random.Next(0, 80)))
            : new(new SnapshotMeta(RandomULong(random), RandomULong(random), RandomMembership(random)), RandomBytes(random, random.Next(0, 80)));

    /// <summary>A valid membership of up to 8 nodes: each is an incoming and/or outgoing voter, a learner, a
    /// learner-next (outgoing voter only) or absent.</summary>
    private static MembershipConfig RandomMembership(Random random)
    {
        List<NodeId> incoming = [], outgoing = [], learners = [], next = [];
        for (var id = 1; id <= 8; id++)
        {
            var n = new NodeId(id);
            switch (random.Next(6))
            {
                case 0: incoming.Add(n); break;
                case 1: outgoing.Add(n); break;
                case 2: incoming.Add(n); outgoing.Add(n); break;
                case 3: learners.Add(n); break;
                case 4: outgoing.Add(n); next.Add(n); break;
            }
        }
        var joint = outgoing.Count > 0;
        return new MembershipConfig(new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing)), learners, joint ? next : [], joint && random.Next(2) == 0);
    }

    private static ConfChange RandomConfChange(Random random) =>
        new((ConfChangeTransition)random.Next(3),
            Enumerable.Range(0, random.Next(0, 5)).Select(_ => new ConfChangeSingle((ConfChangeType)random.Next(1, 4), new NodeId(random.Next(-5, 100)))).ToList())
        { Context = RandomBytes(random, random.Next(0, 10)) };

    private static HardState RandomHardState(Random random) =>
        new(RandomULong(random), random.Next(2) == 0 ? null : new NodeId(random.Next(int.MinValue, int.MaxValue)), RandomULong(random));

    /// <summary>Every decoder under test, each fed raw bytes: only RaftCodecException may escape.</summary>
    private static readonly (string Name, Action<byte[]> Decode)[] Decoders =
    [
        ("message", b => MessageCodec.Decode(b)),
        ("entry payload", b => EntryCodec.DecodePayload(7, 3, b)),
        ("hard state", b => StateCodec.DecodeHardState(b)),
        ("snapshot payload", b => StateCodec.DecodeSnapshotPayload(7, 3, b)),
        ("conf change", b => ConfChangeCodec.Decode(b)),
    ];

    private static void DecodeOrRefuse(Action<byte[]> decode, byte[] bytes)
    {
        try { decode(bytes); }
        catch (RaftCodecException) { }
    }

    [Fact]
    public void ValidEncodingsRoundTrip() =>
        Gen.Int.Sample(seed =>
        {
            var random = new Random(seed);
            var message = RandomMessage(random);
            var decoded = MessageCodec.Decode(MessageCodec.Encode(message).Span);
            Assert.Equal(MessageCodec.Encode(message).ToArray(), MessageCodec.Encode(decoded).ToArray());
            Assert.Equal((message.Type, message.From, message.To, message.Term, message.Index, message.Entries.Count),
                (decoded.Type, decoded.From, decoded.To, decoded.Term, decoded.Index, decoded.Entries.Count));
            var state = RandomHardState(random);
            Assert.Equal(state, StateCodec.DecodeHardState(StateCodec.EncodeHardState(state)));
            var snapshot = RandomSnapshot(random);
            var back = StateCodec.DecodeSnapshotPayload(snapshot.Index, snapshot.Term, StateCodec.EncodeSnapshotPayload(snapshot));
            Assert.Equal(snapshot.Meta.Voters, back.Meta.Voters);
            Assert.Equal(snapshot.Meta.Membership, back.Meta.Membership);
            var change = RandomConfChange(random);
            Assert.Equal(ConfChangeCodec.Encode(change), ConfChangeCodec.Encode(ConfChangeCodec.Decode(ConfChangeCodec.Encode(change))));
            Assert.Equal(snapshot.Data.ToArray(), back.Data.ToArray());
        }, iter: 2_000, threads: 1);

    [Fact]
    public void RandomBytesOnlyEverThrowRaftCodecException() =>
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            foreach (var (_, decode) in Decoders) DecodeOrRefuse(decode, bytes);
        }, iter: 5_000, threads: 1);

    [Fact]
    public void MutantsOfValidEncodingsOnlyEverThrowRaftCodecException() =>
        Gen.Select(Gen.Int, Gen.Int[1, 6]).Sample((seed, mutations) =>
        {
            var random = new Random(seed);
            var valid = new[]
            {
                MessageCodec.Encode(RandomMessage(random)).ToArray(),
                EntryCodec.EncodePayload(RandomEntry(random, 1)),
                StateCodec.EncodeHardState(RandomHardState(random)),
                StateCodec.EncodeSnapshotPayload(RandomSnapshot(random)),
                ConfChangeCodec.Encode(RandomConfChange(random)),
            };
            for (var i = 0; i < Decoders.Length; i++) DecodeOrRefuse(Decoders[i].Decode, ByteMutator.Mutate(valid[i], random, mutations));
        }, iter: 5_000, threads: 1);
}
