using System.Diagnostics;

namespace Flotilla.Cli.Nemesis;

/// <summary>A host tool (<c>ip</c>, <c>nft</c>) failed; its message names the command and what it printed.</summary>
public sealed class HostCommandException(string message) : Exception(message);

/// <summary>Runs the host's networking tools and waits for them, with a deadline so a stuck tool cannot hang a run.</summary>
public static class HostShell
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, string? input = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new HostCommandException($"cannot start {file}");
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new HostCommandException($"'{file} {string.Join(' ', start.ArgumentList)}' did not finish in time");
        }
        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>Runs the command and throws <see cref="HostCommandException"/> unless it exits 0.</summary>
    public static async Task<string> CheckedAsync(string file, IEnumerable<string> arguments, string? input = null)
    {
        var args = arguments.ToList();
        var result = await RunAsync(file, args, input);
        if (result.ExitCode != 0)
            throw new HostCommandException($"'{file} {string.Join(' ', args)}' failed (exit {result.ExitCode}): {OneLine(result.Error + result.Output)}");
        return result.Output;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
