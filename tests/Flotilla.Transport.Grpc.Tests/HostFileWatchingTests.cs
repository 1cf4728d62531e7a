using Microsoft.Extensions.Configuration;
using Xunit;

namespace Flotilla.Transport.Grpc.Tests;

/// <summary>
/// The host must not watch files under the working directory: ASP.NET Core's default (appsettings reloaded on change,
/// content root = working directory) made a server started from a repository checkout walk that whole tree dozens of
/// times a second on Linux, which cost it most of its single-client put rate (found with strace: 2 lstat + 2 geteuid
/// per put, docs/benchmarks.md).
/// </summary>
public class HostFileWatchingTests
{
    [Fact]
    public async Task TheHostWatchesNoConfigurationFileAndItsContentRootIsTheProgramDirectory()
    {
        await using var nodes = new TestNodes();
        Microsoft.AspNetCore.Builder.WebApplicationBuilder? builder = null;
        await nodes.StartAsync(1, beforeStart: host => builder = host.Builder);

        Assert.Equal(Path.GetFullPath(AppContext.BaseDirectory).TrimEnd('/'), Path.GetFullPath(builder!.Environment.ContentRootPath).TrimEnd('/'));
        var fileSources = ((IConfigurationBuilder)builder.Configuration).Sources.OfType<FileConfigurationSource>().ToList();
        Assert.All(fileSources, source => Assert.False(source.ReloadOnChange, $"{source.Path} is watched for changes"));
    }
}
