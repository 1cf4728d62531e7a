using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Hosting;
using Flotilla.MapReduce.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Flotilla.MapReduce.Coordinator;

/// <summary>
/// A running coordinator: a <see cref="JobScheduler"/> behind a gRPC endpoint on loopback. <see cref="Completion"/>
/// ends once the job is over and the workers have been told to exit (or <see cref="CoordinatorOptions.ExitGrace"/>
/// has passed), so the coordinator never leaves before the output is final.
/// </summary>
public sealed class MapReduceCoordinator : IAsyncDisposable
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(50);
    private readonly WebApplication _server;
    private readonly CoordinatorState _state;
    private readonly CancellationTokenSource _stop = new();

    private MapReduceCoordinator(WebApplication server, string address, string? pageAddress, CoordinatorState state, CoordinatorOptions options)
    {
        _server = server;
        _state = state;
        Address = address;
        PageAddress = pageAddress;
        Completion = RunAsync(options);
    }

    /// <summary>Where workers reach this coordinator, e.g. http://127.0.0.1:41234.</summary>
    public string Address { get; }

    /// <summary>The job page's address (http://127.0.0.1:PORT), with <see cref="CoordinatorOptions.PagePort"/>; else null.</summary>
    public string? PageAddress { get; }

    public Task<JobResult> Completion { get; }

    public JobProgress Progress() => _state.Progress();

    public static async Task<MapReduceCoordinator> StartAsync(CoordinatorOptions options, CancellationToken cancellationToken = default)
    {
        InputFiles.Validate(options.InputFiles);
        if (options.ReduceCount < 1) throw new ArgumentOutOfRangeException(nameof(options), "the reduce count must be at least 1");
        _ = Partitioners.Names.Contains(options.Partitioner)
            ? 0 : throw new ArgumentException($"unknown partitioner '{options.Partitioner}' (known: {string.Join(", ", Partitioners.Names)})");
        var scheduler = new JobScheduler(options.InputFiles, options.ReduceCount, options.Scheduler, TimeProvider.System);
        var state = new CoordinatorState(scheduler, options, TimeProvider.System);
        var started = DateTimeOffset.UtcNow;
        var (server, address, pageAddress) = await GrpcServer.StartAsync(options.Port, services => services.AddSingleton(state),
            app =>
            {
                app.MapGrpcService<CoordinatorService>();
                if (options.PagePort is not null) JobPage.Map(app, state, started);
            }, cancellationToken, options.PagePort);
        return new MapReduceCoordinator(server, address, pageAddress, state, options);
    }

    private async Task<JobResult> RunAsync(CoordinatorOptions options)
    {
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            while (_state.Progress().State == JobState.Running) await Task.Delay(CheckInterval, _stop.Token);
            var lingerUntil = TimeProvider.System.GetTimestamp();
            while (!_state.AllActiveWorkersToldToExit() && TimeProvider.System.GetElapsedTime(lingerUntil) < options.ExitGrace)
                await Task.Delay(CheckInterval, _stop.Token);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        var (state, reason, counters) = _state.Outcome();
        return new JobResult(state, reason, counters, TimeProvider.System.GetElapsedTime(started));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Completion;
        await _server.StopAsync();
        await _server.DisposeAsync();
        _stop.Dispose();
    }
}
