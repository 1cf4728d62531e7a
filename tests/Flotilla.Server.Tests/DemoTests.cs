using Flotilla.Cli.Commands;

namespace Flotilla.Server.Tests;

/// <summary>The README's first quick-start command must keep working: run the demo end to end.</summary>
public class DemoTests
{
    [Fact]
    public async Task QuickStartDemoRunsEndToEnd()
    {
        var output = new StringWriter();
        var code = await FlotillaCommand.RunAsync(["demo", "--load-seconds", "1"], output, output);
        var text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("linearizable", text);
        Assert.Contains("first write after the crash: OK", text);
        Assert.Contains("\"hi\" at version 2", text);
        // The sharded tour follows: shards move under load and that history is checked too.
        Assert.Contains("move shard", text);
        Assert.Contains("every shard served: True", text);
        // Both tours print their web console's address on a line of its own.
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(text, @"(?m)^console: http://127\.0\.0\.1:\d+/\r?$").Count);
    }

    [Fact]
    public async Task ShardedDemoMovesShardsUnderLoadAndTheHistoryIsLinearizable()
    {
        var output = new StringWriter();
        var code = await FlotillaCommand.RunAsync(["demo", "--sharded", "--load-seconds", "2"], output, output);
        var text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("move shard", text);
        Assert.Contains(": linearizable", text);
        Assert.Contains("every shard served: True", text);
    }
}
