using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Coordinator;
using Flotilla.MapReduce.Worker;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Flotilla.Server.Tests.WebConsole;

/// <summary>
/// The MapReduce coordinator's job page in a real browser (headless Chromium) during a job: one map task is held
/// inside its Map call, so the page shows it running on a worker while the other maps are done and the reduces wait;
/// released, the page (reloading by itself, no script) shows the job succeeded with every task done. With
/// <c>FLOTILLA_CONSOLE_SCREENSHOTS=DIR</c> it saves the screenshots docs/console.md shows.
/// </summary>
public class JobPageBrowserTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [BrowserFact]
    public async Task ThePageShowsARunningTaskAndThenTheFinishedJob()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mr-browser-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var inputs = Enumerable.Range(0, 3).Select(i => Path.Combine(dir, $"in-{i}.txt")).ToArray();
        foreach (var input in inputs) await File.WriteAllTextAsync(input, "alpha beta gamma alpha\n");
        var app = new HeldMapApp("in-1.txt");
        using var stopWorkers = new CancellationTokenSource();
        try
        {
            // No timeout re-runs and no backups while the map is held on purpose: the page must show that one attempt.
            await using var coordinator = await MapReduceCoordinator.StartAsync(new CoordinatorOptions
            {
                InputFiles = inputs,
                ReduceCount = 2,
                PagePort = 0,
                Scheduler = new() { TaskTimeout = TimeSpan.FromMinutes(2) },
                ExitGrace = TimeSpan.FromSeconds(1),
            });
            var workers = Enumerable.Range(1, 2).Select(i => Task.Run(() => MapReduceWorker.RunAsync(new WorkerOptions
            {
                CoordinatorAddress = coordinator.Address,
                App = app,
                WorkerId = $"w{i}",
                WorkDirectory = Path.Combine(dir, $"work-{i}"),
                OutputDirectory = Path.Combine(dir, "out"),
            }, stopWorkers.Token))).ToList();

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await HeadlessChromium.LaunchAsync(playwright);
            var page = await HeadlessChromium.NewPageAsync(browser, 1280, 900, Deadline);
            await page.GotoAsync(coordinator.PageAddress + "/");

            // During the job: the held map runs on one of the workers, the other two maps are done, reduces wait.
            await Expect(page.Locator("tr[data-task^=\"map-\"], tr[data-task^=\"reduce-\"]")).ToHaveCountAsync(5);
            await Expect(page.Locator("tr[data-task=\"map-1\"] td").First).ToHaveTextAsync("Running");
            await Expect(page.Locator("tr[data-task=\"map-1\"] td").Nth(1)).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^w[12]$"));
            await Expect(page.Locator("tr[data-task=\"map-0\"] td").First).ToHaveTextAsync("Done");
            await Expect(page.Locator("tr[data-task=\"map-2\"] td").First).ToHaveTextAsync("Done");
            await Expect(page.Locator("#progress")).ToHaveAttributeAsync("value", "2");
            await Expect(page.Locator("p.banner")).ToContainTextAsync("Running for");
            await HeadlessChromium.ScreenshotAsync(page, "mr-job-running.png");

            app.Release();
            // No navigation by the test: the page's own refresh brings the end of the job in.
            await Expect(page.Locator("p.banner.ok")).ToContainTextAsync("Succeeded in");
            await Expect(page.Locator("#progress")).ToHaveAttributeAsync("value", "5");
            await Expect(page.Locator("tr[data-task^=\"reduce-\"] td:first-of-type")).ToHaveTextAsync(["Done", "Done"]);
            await HeadlessChromium.ScreenshotAsync(page, "mr-job-done.png");

            var result = await coordinator.Completion.WaitAsync(Deadline);
            Assert.Equal(Flotilla.MapReduce.Scheduling.JobState.Succeeded, result.State);
            await Task.WhenAll(workers).WaitAsync(Deadline);
        }
        finally
        {
            app.Release();
            await stopWorkers.CancelAsync();
            Directory.Delete(dir, recursive: true);
        }
    }


    /// <summary>Word counting whose map of one input file waits until released.</summary>
    private sealed class HeldMapApp(string heldFile) : IMapReduceApp
    {
        private readonly ManualResetEventSlim _released = new();

        public void Release() => _released.Set();

        public IEnumerable<KeyValue> Map(string fileName, string contents)
        {
            if (fileName.EndsWith(heldFile, StringComparison.Ordinal)) _released.Wait(TimeSpan.FromMinutes(1));
            return contents.Split(' ', '\n', StringSplitOptions.RemoveEmptyEntries).Select(w => new KeyValue(w, "1")).ToList();
        }

        public string Reduce(string key, IReadOnlyList<string> values) => values.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
