using Microsoft.Playwright;

namespace Flotilla.Server.Tests.WebConsole;

/// <summary>What every browser test does the same way: the system Chromium, headless, one page of a given size with
/// the test's deadline as its default timeout, and screenshots into <c>FLOTILLA_CONSOLE_SCREENSHOTS</c> when set (the
/// images docs/ and the README show).</summary>
internal static class HeadlessChromium
{
    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFactAttribute.Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });

    public static async Task<IPage> NewPageAsync(IBrowser browser, int width, int height, TimeSpan deadline)
    {
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        page.SetDefaultTimeout((float)deadline.TotalMilliseconds);
        return page;
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("FLOTILLA_CONSOLE_SCREENSHOTS") is not { Length: > 0 } dir) return;
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, name), FullPage = true });
    }
}
