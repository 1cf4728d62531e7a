using Flotilla.Cli.Nemesis;
using Flotilla.Server.Faults;

namespace Flotilla.Cli.Tests.Nemesis;

/// <summary>The control file between the nemesis and a member: what the nemesis writes, what the server reads from it.</summary>
public class RuntimeFaultsTests
{
    [Fact]
    public void TheControlFileIsParsedAndBadLinesAreIgnored()
    {
        var (delays, rate, ahead) = RuntimeFaults.Parse("delay 2 200 50\n# comment\ndelay 3 80\nclock-rate 1.5\nclock-ahead 3000\ndelay x 5\nbogus 1\nclock-rate -2\n");
        Assert.Equal(new LinkDelays.Delay(200, 50), delays[2]);
        Assert.Equal(new LinkDelays.Delay(80, 0), delays[3]);
        Assert.Equal(2, delays.Count);
        Assert.Equal(1.5, rate);
        Assert.Equal(TimeSpan.FromSeconds(3), ahead);
        var none = RuntimeFaults.Parse("");
        Assert.Empty(none.Delays);
        Assert.Equal(1.0, none.Rate);
    }

    [Fact]
    public void AServerAppliesTheFileWhenItChangesAndNeverTurnsItsClockBack()
    {
        var path = Path.Combine(Path.GetTempPath(), $"flotilla-control-{Guid.NewGuid():N}");
        try
        {
            using var faults = RuntimeFaults.Start(path);
            Assert.Empty(faults.Delays.Table);
            Assert.Equal(1.0, faults.Clock.Rate);
            File.WriteAllText(path, "delay 2 150 10\nclock-rate 2\nclock-ahead 1000\n");
            faults.Poll();
            Assert.Equal(new LinkDelays.Delay(150, 10), faults.Delays.Table[2]);
            Assert.Equal(2.0, faults.Clock.Rate);
            Assert.True(faults.Clock.Ahead >= TimeSpan.FromSeconds(1), faults.Clock.Ahead.ToString());
            // Healed: no delay, normal speed, and the clock stays ahead (it jumped; a monotonic clock cannot go back).
            File.WriteAllText(path, "clock-ahead 1000\n");
            faults.Poll();
            var ahead = faults.Clock.Ahead;
            Assert.Empty(faults.Delays.Table);
            Assert.Equal(1.0, faults.Clock.Rate);
            File.Delete(path);
            faults.Poll();
            Assert.True(faults.Clock.Ahead >= ahead - TimeSpan.FromMilliseconds(50), $"{faults.Clock.Ahead} after {ahead}");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public async Task ANodeHostSendsThroughTheWrapperAndRunsOnTheClockItIsGiven()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"flotilla-hooks-{Guid.NewGuid():N}");
        var clock = new SkewedTimeProvider(TimeProvider.System);
        var delays = new LinkDelays();
        DelayingTransport? wrapper = null;
        var host = new Flotilla.Transport.Grpc.RealNodeHost(new Flotilla.Transport.Grpc.RealNodeHostOptions
        {
            Id = new Flotilla.Runtime.NodeId(1),
            Listen = System.Net.IPEndPoint.Parse("127.0.0.1:0"),
            Peers = new Flotilla.Transport.Grpc.PeerDirectory(),
            DataDirectory = directory,
            WrapTransport = inner => wrapper = new DelayingTransport(inner, delays),
            Time = clock,
        });
        try
        {
            Assert.NotNull(wrapper);
            Assert.Same(wrapper, host.Context.Transport);
            Assert.NotSame(wrapper, host.Transport);
            var before = host.Context.Time.GetTimestamp();
            clock.Set(1, TimeSpan.FromSeconds(30));
            Assert.True(host.Context.Time.GetElapsedTime(before) >= TimeSpan.FromSeconds(30));
        }
        finally
        {
            await host.DisposeAsync();
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void WithoutTheVariableThereIsNoControl()
    {
        if (Environment.GetEnvironmentVariable(RuntimeFaults.ControlVariable) is null) Assert.Null(RuntimeFaults.FromEnvironment(null));
    }

    [Fact]
    public void TheNemesisWritesEachMemberTheDelaysOfWhatItSends()
    {
        var control = new RuntimeFaultControl();
        var slowNode = RuntimeFaultControl.LinksOf(FaultKind.SlowNode, [2], 3).ToList();
        Assert.Equal([(2, 1), (1, 2), (2, 3), (3, 2)], slowNode);
        Assert.Equal([(1, 3), (3, 1)], RuntimeFaultControl.LinksOf(FaultKind.SlowLink, [1, 3], 3));
        control.AddDelay(slowNode, 200, 50);
        control.AddDelay(RuntimeFaultControl.LinksOf(FaultKind.SlowLink, [1, 2], 3), 300, 75);
        control.SetRate(3, 50);
        control.Jump(3, 700);
        control.Jump(3, 300);
        Assert.Equal("delay 2 300 75\n", control.FileFor(1));
        Assert.Equal("delay 1 300 75\ndelay 3 200 50\n", control.FileFor(2));
        Assert.Equal("delay 2 200 50\nclock-rate 0.5\nclock-ahead 1000\n", control.FileFor(3));
        control.RemoveDelay(RuntimeFaultControl.LinksOf(FaultKind.SlowLink, [1, 2], 3), 300, 75);
        Assert.Equal("delay 2 200 50\n", control.FileFor(1));
        control.Clear();
        Assert.Equal("", control.FileFor(1));
        Assert.Equal("clock-ahead 1000\n", control.FileFor(3));
        // What the nemesis writes is what the server reads.
        var (delays, rate, ahead) = RuntimeFaults.Parse("delay 1 300 75\ndelay 3 200 50\nclock-rate 0.5\nclock-ahead 1000\n");
        Assert.Equal([1, 3], delays.Keys.Order());
        Assert.Equal(0.5, rate);
        Assert.Equal(TimeSpan.FromSeconds(1), ahead);
    }
}
