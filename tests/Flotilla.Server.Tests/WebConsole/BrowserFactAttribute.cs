namespace Flotilla.Server.Tests.WebConsole;

/// <summary>A test in a real browser: needs Chromium at <see cref="Chromium"/> (.ci/run installs the Debian package
/// where it is root with apt). Nothing here downloads a browser; without it the test is skipped with the reason.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (!File.Exists(Chromium)) Skip = $"no Chromium at {Chromium} (apt-get install -y chromium): browser tests of the console skipped";
    }
}
