using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Flotilla.Server.Faults;

/// <summary>
/// Faults a fault-injection run (<c>flotilla nemesis --faults latency,clock</c>) switches on and off while the server
/// runs, through a small control file the server reads every <see cref="PollInterval"/>. Off unless the environment
/// names the file (<c>FLOTILLA_FAULT_CONTROL=PATH</c>, like the disk faults of <see cref="StorageFaults"/>): a server
/// started without it has no delaying transport and the system clock. The file is the whole current state, one
/// fault a line (a missing or empty file: no faults):
/// <code>
/// delay 2 200 50     # messages to node 2 wait 200 ms +- 50 ms
/// clock-rate 1.5     # the clock runs at 1.5x
/// clock-ahead 3000   # the clock has jumped 3000 ms ahead in all (only growth jumps; it never runs back)
/// </code>
/// Unknown or malformed lines are ignored, so a bad file cannot stop a server.
/// </summary>
public sealed class RuntimeFaults : IDisposable
{
    public const string ControlVariable = "FLOTILLA_FAULT_CONTROL";
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly string _path;
    private readonly ILogger? _log;
    private readonly ITimer _poll;
    private string? _applied = "";
    private TimeSpan _jumped;

    private RuntimeFaults(string path, ILogger? log)
    {
        _path = path;
        _log = log;
        Clock = new SkewedTimeProvider(TimeProvider.System);
        Poll();
        // The real clock polls, so a slowed clock does not slow its own heal.
        _poll = TimeProvider.System.CreateTimer(_ => Poll(), null, PollInterval, PollInterval);
    }

    public LinkDelays Delays { get; } = new();

    public SkewedTimeProvider Clock { get; }

    /// <summary>The control the environment asks for, or null (the normal case: no runtime faults at all).</summary>
    public static RuntimeFaults? FromEnvironment(ILogger? log) =>
        Environment.GetEnvironmentVariable(ControlVariable) is { Length: > 0 } path ? Start(path, log) : null;

    /// <summary>A control reading <paramref name="path"/> (tests; <see cref="FromEnvironment"/> otherwise).</summary>
    public static RuntimeFaults Start(string path, ILogger? log = null)
    {
        log?.LogWarning("runtime fault control is on: {Path} (injected latency and clock skew)", path);
        return new RuntimeFaults(Path.GetFullPath(path), log);
    }

    /// <summary>Reads the file now and applies what changed (also what the timer does).</summary>
    public void Poll()
    {
        string text;
        try { text = File.Exists(_path) ? File.ReadAllText(_path) : ""; }
        catch (IOException) { return; }
        catch (UnauthorizedAccessException) { return; }
        lock (this)
        {
            if (text == _applied) return;
            _applied = text;
            var (delays, rate, ahead) = Parse(text);
            Delays.Set(delays);
            Clock.Set(rate, ahead - _jumped);
            if (ahead > _jumped) _jumped = ahead;
            _log?.LogWarning("injected runtime faults now: {Faults}", text.Trim().Length == 0 ? "none" : text.Trim().ReplaceLineEndings("; "));
        }
    }

    /// <summary>The delays per destination, the clock rate and the total jump a control file asks for.</summary>
    public static (Dictionary<int, LinkDelays.Delay> Delays, double Rate, TimeSpan Ahead) Parse(string text)
    {
        var delays = new Dictionary<int, LinkDelays.Delay>();
        var rate = 1.0;
        var ahead = TimeSpan.Zero;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Split('#')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (line.Length == 0) continue;
            switch (line[0])
            {
                case "delay" when line.Length >= 3 && Int(line[1]) is { } node && Int(line[2]) is { } ms:
                    delays[node] = new(Math.Min(ms, 60_000), Math.Min(line.Length > 3 ? Int(line[3]) ?? 0 : 0, 60_000));
                    break;
                case "clock-rate" when line.Length == 2 && double.TryParse(line[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var r) && r > 0:
                    rate = r;
                    break;
                case "clock-ahead" when line.Length == 2 && Int(line[1]) is { } jumped:
                    ahead = TimeSpan.FromMilliseconds(jumped);
                    break;
            }
        }
        return (delays, rate, ahead);
    }

    private static int? Int(string text) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;

    public void Dispose() => _poll.Dispose();
}
