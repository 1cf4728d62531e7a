using Flotilla.Kv.Protos;
using Flotilla.Kv.StateMachine;

namespace Flotilla.Kv.Tests.StateMachine;

/// <summary>The streamed snapshot is the byte-array snapshot, written and read in blocks: same bytes, same state, same
/// refusals of damaged input.</summary>
public class KvSnapshotStreamTests
{
    private static KvStateMachine Machine(int keys, int valueChars)
    {
        var machine = new KvStateMachine();
        for (var i = 0; i < keys; i++) machine.Apply(new PutRequest { Key = $"key-{i:D6}", Value = new string((char)('a' + i % 26), valueChars), Version = 0 });
        machine.Apply(new PutRequest { Key = "key-000000", Value = "rewritten", Version = 1 });
        return machine;
    }

    private static async Task<byte[]> StreamedAsync(KvStateMachine machine)
    {
        var output = new MemoryStream();
        await machine.WriteSnapshotAsync(output, CancellationToken.None);
        return output.ToArray();
    }

    [Fact]
    public async Task TheStreamHoldsTheSameBytesAsTheArrayAcrossManyBlocks()
    {
        var machine = Machine(3000, 700); // ~4 MiB: several 1 MiB blocks, entries straddling block ends
        var streamed = await StreamedAsync(machine);
        Assert.Equal(machine.Snapshot(), streamed);

        var restored = await KvStateMachine.RestoreAsync(new MemoryStream(streamed), streamed.Length, CancellationToken.None);
        Assert.Equal(machine.Keys(), restored.Keys());
        Assert.Equal(machine.DataBytes, restored.DataBytes);
        Assert.Equal("rewritten", restored.Get("key-000000").Value);
        Assert.Equal(2UL, restored.Get("key-000000").Version);
        Assert.Equal(new string('b', 700), restored.Get("key-000001").Value);
    }

    [Fact]
    public async Task AValueLargerThanABlockIsRead()
    {
        var machine = new KvStateMachine();
        machine.Apply(new PutRequest { Key = "big", Value = new string('x', 1_500_000), Version = 0 });
        machine.Apply(new PutRequest { Key = "small", Value = "y", Version = 0 });
        var streamed = await StreamedAsync(machine);
        var restored = await KvStateMachine.RestoreAsync(new MemoryStream(streamed), streamed.Length, CancellationToken.None);
        Assert.Equal(1_500_000, restored.Get("big").Value.Length);
        Assert.Equal("y", restored.Get("small").Value);
    }

    [Fact]
    public async Task DamagedStreamsAreRefusedAsTheArrayCodecRefusesThem()
    {
        var bytes = await StreamedAsync(Machine(50, 10));
        foreach (var cut in new[] { 2, 10, bytes.Length / 2, bytes.Length - 1 })
        {
            var truncated = bytes[..cut];
            Assert.Throws<InvalidDataException>(() => KvSnapshotCodec.Decode(truncated));
            await Assert.ThrowsAsync<InvalidDataException>(async () => await KvStateMachine.RestoreAsync(new MemoryStream(truncated), truncated.Length, CancellationToken.None));
        }
        var trailing = bytes.Concat(new byte[] { 1, 2, 3 }).ToArray();
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await KvStateMachine.RestoreAsync(new MemoryStream(trailing), trailing.Length, CancellationToken.None));
        Assert.Contains("3 trailing bytes", error.Message);
        // A count no stream of this length can hold is refused before anything is read.
        var huge = (byte[])bytes.Clone();
        huge[3] = 0x7f;
        error = await Assert.ThrowsAsync<InvalidDataException>(async () => await KvStateMachine.RestoreAsync(new MemoryStream(huge), huge.Length, CancellationToken.None));
        Assert.Contains("claims", error.Message);
        // A stream that ends before the length it was announced with.
        await Assert.ThrowsAsync<InvalidDataException>(async () => await KvStateMachine.RestoreAsync(new MemoryStream(bytes[..^5]), bytes.Length, CancellationToken.None));
    }
}
