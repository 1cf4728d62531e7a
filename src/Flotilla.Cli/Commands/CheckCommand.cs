using System.CommandLine;
using System.Globalization;
using Flotilla.Cli.Infrastructure;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Reporting;

namespace Flotilla.Cli.Commands;

/// <summary><c>flotilla check HISTORY [--html OUT.html] [--timeout 30s]</c>: checks a recorded history
/// (docs/history-format.md) for linearizability. Exit 0 linearizable, 1 not, 5 unknown (timed out), 4 bad file.</summary>
public static class CheckCommand
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var history = new Argument<string>("history") { Description = "The history file (JSON, see docs/history-format.md)." };
        var html = new Option<string?>("--html") { Description = "Also write a self-contained HTML view of the history to this file." };
        var timeout = new Option<string>("--timeout")
        {
            Description = "Give up after this long and report 'unknown' (e.g. 500ms, 30s, 5m; 0 = no limit).",
            DefaultValueFactory = _ => "30s",
        };
        var command = new Command("check", "Check a recorded history of client operations for linearizability.");
        command.Arguments.Add(history);
        command.Options.Add(html);
        command.Options.Add(timeout);
        command.SetAction((parse, cancellation) => Task.FromResult(Run(
            parse.GetValue(history)!, parse.GetValue(html), ParseTimeout(parse.GetValue(timeout)), parse.InvocationConfiguration.Output, cancellation)));
        return command;
    }

    private static int Run(string path, string? htmlPath, TimeSpan? timeout, TextWriter output, CancellationToken cancellation)
    {
        string json;
        try
        {
            if (new FileInfo(path) is { Exists: true, Length: > HistoryJson.MaxFileBytes } big)
                throw new CliException($"history file {path} is {big.Length:N0} bytes; the limit is {HistoryJson.MaxFileBytes:N0}", ExitCodes.BadInput);
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliException($"history file not found: {path}", ExitCodes.BadInput, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read history file {path}: {e.Message}", ExitCodes.BadInput, e);
        }

        HistoryReport report;
        try
        {
            report = ModelCatalog.CheckJson(json, new CheckOptions { Timeout = timeout }, cancellation);
        }
        catch (HistoryFormatException e)
        {
            throw new CliException($"malformed history {path}: {e.Message}", ExitCodes.BadInput, e);
        }

        // The verdict first, so a failure to write the page cannot hide it.
        output.WriteLine(report.Summary());
        foreach (var line in report.Details()) output.WriteLine(line);
        if (htmlPath is not null)
        {
            try
            {
                File.WriteAllText(htmlPath, HistoryHtml.Render(report, $"flotilla check {Path.GetFileName(path)}"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not BadInput: the history was fine; what was asked for could not be done.
                throw new CliException($"cannot write the HTML view {htmlPath}: {e.Message}", ExitCodes.Failure, e);
            }
            output.WriteLine($"HTML view: {htmlPath}");
        }
        return report.Result.Outcome switch
        {
            CheckOutcome.Ok => ExitCodes.Ok,
            CheckOutcome.Illegal => ExitCodes.Failure,
            _ => ExitCodes.Unknown,
        };
    }

    /// <summary>"500ms", "30s", "5m", "1h" or a bare number of seconds; "0" means no limit.</summary>
    internal static TimeSpan? ParseTimeout(string? text)
    {
        text = text?.Trim() ?? "";
        if (text.Length == 0) return DefaultTimeout;
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : text.EndsWith('h') ? (text[..^1], 3600.0)
            : (text, 1.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || double.IsNaN(value)
            || value * unit > TimeSpan.MaxValue.TotalSeconds)
            throw new CliException($"--timeout: cannot read \"{text}\" as a duration (e.g. 500ms, 30s, 5m)", ExitCodes.Usage);
        return value == 0 ? null : TimeSpan.FromSeconds(value * unit);
    }
}
