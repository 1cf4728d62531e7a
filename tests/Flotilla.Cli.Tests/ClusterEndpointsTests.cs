using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Tests;

/// <summary>How <c>--cluster</c>/<c>--server</c> text is read: an endpoint list, or a cluster file (exit 4 if bad).</summary>
public class ClusterEndpointsTests
{
    [Theory]
    [InlineData("/nonexistent")]
    [InlineData("some/dir/cluster")]
    [InlineData("missing.json")]
    public void APathThatNamesNoFileIsBadInputNotAUsageError(string text)
    {
        var e = Assert.Throws<CliException>(() => ClusterEndpoints.Parse(text));
        Assert.Equal(ExitCodes.BadInput, e.ExitCode);
        Assert.Equal($"cluster file not found: {text}", e.Message);
    }

    [Theory]
    [InlineData("127.0.0.1:7001/", "127.0.0.1:7001")]
    [InlineData("http://127.0.0.1:7001/,http://127.0.0.1:7002", "127.0.0.1:7001,127.0.0.1:7002")]
    [InlineData("localhost:7001, 127.0.0.1:7002", "localhost:7001,127.0.0.1:7002")]
    public void EndpointListsStayListsEvenWithSlashes(string text, string expected) =>
        Assert.Equal(expected, string.Join(",", ClusterEndpoints.Parse(text).Select(u => u.Authority)));

    [Fact]
    public void AMalformedEndpointListIsAUsageError() =>
        Assert.Equal(ExitCodes.Usage, Assert.Throws<CliException>(() => ClusterEndpoints.Parse("not an endpoint")).ExitCode);
}
