using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Tests;

/// <summary>A server is not started insecure by accident: missing secrets and half-given TLS flags are one-line errors.</summary>
public class ServerSecurityFlagsTests
{
    private static readonly string Data = Path.Combine(Path.GetTempPath(), "flotilla-server-security-flags-never-created");

    [Fact]
    public async Task AServerWithPeersButNoClusterSecretRefusesToStart()
    {
        var (code, _, error) = await CliHarness.RunAsync("server", "--id", "1", "--peers", "1=127.0.0.1:7001,2=127.0.0.1:7002", "--data", Data);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--cluster-secret-file", error);
        Assert.False(Directory.Exists(Data));
    }

    [Fact]
    public async Task AnAdminPortWithoutATokenOrMutualTlsRefusesToStart()
    {
        var (code, _, error) = await CliHarness.RunAsync("server", "--id", "1", "--peers", "1=127.0.0.1:7001", "--admin-listen", "127.0.0.1:7101", "--data", Data);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--admin-token-file", error);
    }

    [Fact]
    public async Task ASecretFileOthersCanReadIsRefused()
    {
        var secret = Path.Combine(Path.GetTempPath(), $"flotilla-loose-secret-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(secret, "a secret that anyone on the machine can read");
        try
        {
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            var (code, _, error) = await CliHarness.RunAsync("server", "--id", "1", "--peers", "1=127.0.0.1:7001,2=127.0.0.1:7002",
                "--cluster-secret-file", secret, "--data", Data);

            Assert.Equal(ExitCodes.BadInput, code);
            Assert.Contains("chmod 600", error);
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [Theory]
    [InlineData("--tls-cert", "--tls-cert and --tls-key go together")]
    [InlineData("--peer-tls-key", "--peer-tls-cert and --peer-tls-key go together")]
    [InlineData("--tls-client-ca", "--tls-client-ca needs --tls-cert")]
    public async Task HalfOfATlsConfigurationIsAUsageError(string flag, string expected)
    {
        var (code, _, error) = await CliHarness.RunAsync("server", "--id", "1", "--peers", "1=127.0.0.1:7001", flag, "/nonexistent.pem", "--data", Data);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(expected, error);
    }
}
