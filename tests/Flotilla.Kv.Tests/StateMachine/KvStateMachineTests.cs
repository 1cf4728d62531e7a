using Flotilla.Kv.Protos;
using Flotilla.Kv.StateMachine;

namespace Flotilla.Kv.Tests.StateMachine;

public class KvStateMachineTests
{
    [Fact]
    public void SnapshotRestoresEveryKeyValueAndVersion()
    {
        var machine = new KvStateMachine();
        machine.Apply(new PutRequest { Key = "a", Value = "1" });
        machine.Apply(new PutRequest { Key = "a", Value = "2", Version = 1 });
        machine.Apply(new PutRequest { Key = "ü-ключ", Value = "", Version = 0 });

        var restored = KvStateMachine.Restore(machine.Snapshot());

        Assert.Equal(machine.Keys(), restored.Keys());
        Assert.Equal(new GetReply { Error = KvError.Ok, Value = "2", Version = 2 }, restored.Get("a"));
        Assert.Equal(new GetReply { Error = KvError.Ok, Value = "", Version = 1 }, restored.Get("ü-ключ"));
        Assert.Equal(machine.DataBytes, restored.DataBytes);
    }

    [Fact]
    public void DamagedSnapshotIsRefusedNotMisread()
    {
        var machine = new KvStateMachine();
        machine.Apply(new PutRequest { Key = "a", Value = "hello" });
        var bytes = machine.Snapshot();
        Assert.Throws<InvalidDataException>(() => KvStateMachine.Restore(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Throws<InvalidDataException>(() => KvStateMachine.Restore([0xFF, 0xFF, 0xFF, 0x7F]));
    }

    [Fact]
    public void ReplayingAnAlreadyAppliedPutIsRefusedByItsVersion()
    {
        // Why the log may replay a put that a snapshot already contains, and why a retry is never applied twice.
        var machine = new KvStateMachine();
        var put = new PutRequest { Key = "k", Value = "v", Version = 0 };
        Assert.Equal(KvError.Ok, machine.Apply(put).Error);
        Assert.Equal(KvError.ErrVersion, machine.Apply(put).Error);
        Assert.Equal(1UL, machine.Get("k").Version);
        Assert.Equal(1, machine.AppliedPuts);
    }
}
