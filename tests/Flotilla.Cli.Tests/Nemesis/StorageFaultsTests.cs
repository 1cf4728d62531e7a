using System.Diagnostics;
using Flotilla.Server;

namespace Flotilla.Cli.Tests.Nemesis;

public class StorageFaultsTests
{
    private static StorageFaults From(string? delay, string? fail) =>
        StorageFaults.From(name => name == StorageFaults.FsyncDelayVariable ? delay : name == StorageFaults.FsyncFailVariable ? fail : null);

    [Fact]
    public void OffUnlessAVariableIsSet()
    {
        Assert.False(From(null, null).Any);
        Assert.False(From("", "0").Any);
        Assert.Equal(StorageFaults.None, From(null, null));
    }

    [Fact]
    public void ValuesAreReadClampedAndMalformedOnesIgnored()
    {
        Assert.Equal(new StorageFaults(150, 10), From("150", "10"));
        Assert.Equal(new StorageFaults(60_000, 100), From("999999", "250"));
        Assert.Equal(StorageFaults.None, From("-5", "ten"));
    }

    [Fact]
    public async Task AllFsyncsFailAtOneHundredPercentAndNoneAtZero()
    {
        var error = await Assert.ThrowsAsync<IOException>(async () => await new StorageFaults(0, 100).BeforeFsyncAsync("wal/0.seg", default));
        Assert.Contains("wal/0.seg", error.Message);
        for (var i = 0; i < 100; i++) await new StorageFaults(0, 0).BeforeFsyncAsync("x", default);
    }

    [Fact]
    public async Task ADelayMakesTheFsyncWait()
    {
        var clock = Stopwatch.StartNew();
        await new StorageFaults(120, 0).BeforeFsyncAsync("x", default);
        Assert.True(clock.ElapsedMilliseconds >= 100, $"{clock.ElapsedMilliseconds} ms");
    }
}
