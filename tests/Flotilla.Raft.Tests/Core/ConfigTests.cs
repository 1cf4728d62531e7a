using Flotilla.Raft;
using Flotilla.Runtime;

namespace Flotilla.Raft.Tests.Core;

public class ConfigTests
{
    private static readonly RaftConfig Valid = new() { Id = new NodeId(1), Voters = [new(1), new(2), new(3)] };

    [Theory]
    [InlineData(10, 10)]
    [InlineData(5, 10)]
    [InlineData(10, 0)]
    public void ElectionTicksMustExceedHeartbeatTicks(int election, int heartbeat) =>
        Assert.Throws<ArgumentException>(() => (Valid with { ElectionTicks = election, HeartbeatTicks = heartbeat }).Validate());

    [Fact]
    public void DuplicateOrMissingVotersAreRejected()
    {
        Assert.Throws<ArgumentException>(() => (Valid with { Voters = [new(1), new(1)] }).Validate());
        Assert.Throws<ArgumentException>(() => new RaftCore(Valid with { Voters = [new(2), new(3)] }, new Random(1)));
    }

    [Fact]
    public void DefaultsAreValid() => Valid.Validate();
}
