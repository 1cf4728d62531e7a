using System.Globalization;
using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Bench;

/// <summary>Durations on the bench command line: "500ms", "10s", "2m", "1h" or a bare number of seconds.</summary>
public static class BenchDuration
{
    public static TimeSpan Parse(string? text, string option)
    {
        text = text?.Trim() ?? "";
        var (number, unitSeconds) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : text.EndsWith('h') ? (text[..^1], 3600.0)
            : (text, 1.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || double.IsNaN(value)
            || value * unitSeconds > TimeSpan.FromDays(1).TotalSeconds)
            throw new CliException($"{option}: cannot read \"{text}\" as a duration (e.g. 500ms, 10s, 2m; at most a day)", ExitCodes.Usage);
        return TimeSpan.FromSeconds(value * unitSeconds);
    }
}
