using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Tests;

public class CliBasicsTests
{
    [Fact]
    public async Task VersionPrintsTheVersionAndExitsZero()
    {
        var (code, output, _) = await CliHarness.RunAsync("version");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.StartsWith("flotilla 0.", output);
    }

    [Fact]
    public async Task UnknownFlagIsAUsageErrorOnOneLinePerProblemWithoutStackTrace()
    {
        var (code, _, error) = await CliHarness.RunAsync("version", "--no-such-flag");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--no-such-flag", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public async Task HelpWorksOnEveryCommand()
    {
        foreach (var command in Commands.FlotillaCommand.Build().Subcommands)
        {
            var (code, output, _) = await CliHarness.RunAsync(command.Name, "--help");
            Assert.Equal(ExitCodes.Ok, code);
            Assert.Contains("Usage:", output);
        }
    }

    [Fact]
    public async Task SimSoakModeEndsWithPassedFailedLine()
    {
        var (code, output, _) = await CliHarness.RunAsync("sim", "selftest", "--seeds", "3");
        Assert.Equal(ExitCodes.Ok, code);
        var runs = Flotilla.Simulation.SelfTestScenarios.Suite.Scenarios.Count * 3;
        Assert.Equal($"{runs} passed, 0 failed", output.Trim().Split('\n').Last());
    }

    [Fact]
    public async Task SimWithUnknownSuiteIsAUsageError()
    {
        var (code, _, error) = await CliHarness.RunAsync("sim", "no-such-suite");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("no suite 'no-such-suite'", error);
    }
}
