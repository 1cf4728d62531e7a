using System.Net.Sockets;
using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Hosting;
using Flotilla.MapReduce.Protos;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Flotilla.MapReduce.Worker;

/// <summary>
/// A worker process's loop: ask the coordinator for a task, run it, report, until told to exit. It also serves its
/// finished map output to reducers (RPC shuffle). Every file it produces is written under a temporary name and
/// renamed, so a crash leaves nothing partial behind.
/// </summary>
public sealed class MapReduceWorker
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private readonly WorkerOptions _options;
    private readonly Dictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private string _shuffleAddress = "";

    private MapReduceWorker(WorkerOptions options) => _options = options;

    public static async Task<WorkerExit> RunAsync(WorkerOptions options, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(options.WorkDirectory);
        Directory.CreateDirectory(options.OutputDirectory);
        var worker = new MapReduceWorker(options);
        var directories = new WorkerDirectories(Path.GetFullPath(options.WorkDirectory), Path.GetFullPath(options.OutputDirectory));
        var (server, address, _) = await GrpcServer.StartAsync(0, services => services.AddSingleton(directories),
            app => app.MapGrpcService<ShuffleService>(), cancellationToken);
        worker._shuffleAddress = address;
        try
        {
            return await worker.LoopAsync(cancellationToken);
        }
        finally
        {
            foreach (var channel in worker._channels.Values) channel.Dispose();
            await server.StopAsync(CancellationToken.None);
            await server.DisposeAsync();
        }
    }

    private async Task<WorkerExit> LoopAsync(CancellationToken cancellationToken)
    {
        var coordinator = new Protos.Coordinator.CoordinatorClient(Channel(_options.CoordinatorAddress));
        var everReached = false;
        var lastReached = TimeProvider.System.GetTimestamp();
        while (true)
        {
            GetTaskReply task;
            try
            {
                task = await coordinator.GetTaskAsync(new GetTaskRequest { WorkerId = _options.WorkerId },
                    deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken);
                everReached = true;
                lastReached = TimeProvider.System.GetTimestamp();
            }
            // Any failure to talk is treated alike: a coordinator shutting down can surface as Unavailable,
            // Internal, Unknown or a reset stream depending on timing.
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                var silent = TimeProvider.System.GetElapsedTime(lastReached);
                if (everReached && silent >= _options.CoordinatorGoneAfter) return WorkerExit.CoordinatorGone;
                if (!everReached && silent >= _options.ConnectTimeout)
                    throw new MapReduceException(MapReduceError.CoordinatorUnreachable,
                        $"cannot reach the coordinator at {_options.CoordinatorAddress}: {e.Status.Detail}", e);
                await Task.Delay(_options.PollInterval, cancellationToken);
                continue;
            }

            switch (task.Kind)
            {
                case TaskKind.Exit:
                    return WorkerExit.JobDone;
                case TaskKind.Map:
                    await ReportAsync(coordinator, RunMap(task));
                    break;
                case TaskKind.Reduce:
                    await ReportAsync(coordinator, await RunReduceAsync(task, cancellationToken));
                    break;
                default:
                    await Task.Delay(_options.PollInterval, cancellationToken);
                    break;
            }
        }
    }

    private ReportTaskRequest RunMap(GetTaskReply task)
    {
        var report = NewReport(task);
        try
        {
            var contents = File.ReadAllBytes(task.InputFile); // decoded only if the app needs text (see IUtf8MapApp)
            var partition = Partitioners.Create(task.Partitioner, _options.App);
            var output = MapTaskRunner.Run(_options.App, task.InputFile, contents, task.ReduceCount, partition, task.Combine);
            long bytesOut = 0;
            for (var r = 0; r < output.Partitions.Count; r++)
            {
                var records = output.Partitions[r];
                bytesOut += AtomicFile.Write(Path.Combine(_options.WorkDirectory, IntermediateFormat.FileName(task.Task, r)),
                    stream => IntermediateFormat.Write(stream, records), durable: false); // re-creatable: a lost one re-runs the map
            }
            report.Succeeded = true;
            report.ShuffleAddress = task.ShuffleOverRpc ? _shuffleAddress : "";
            report.Counters = new Protos.TaskCounters
                { RecordsIn = output.RecordsIn, RecordsOut = output.RecordsOut, BytesIn = contents.Length, BytesOut = bytesOut };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            report.Error = $"map of {task.InputFile}: {e.GetType().Name}: {e.Message}";
        }
        return report;
    }

    private async Task<ReportTaskRequest> RunReduceAsync(GetTaskReply task, CancellationToken cancellationToken)
    {
        var report = NewReport(task);
        var runs = new List<MemoryStream>();
        long bytesIn = 0;
        foreach (var location in task.Locations)
        {
            var data = await FetchAsync(location, task.Task, cancellationToken);
            if (data is null)
            {
                report.UnreachableMapTasks.Add(location.MapTask);
                continue;
            }
            bytesIn += data.Length;
            runs.Add(data);
        }
        if (report.UnreachableMapTasks.Count > 0)
        {
            report.Error = $"could not fetch the output of map tasks {string.Join(",", report.UnreachableMapTasks)}";
            return report;
        }
        try
        {
            // Each map task's partition is sorted already: merge them rather than sort everything again.
            long recordsIn = 0;
            var merged = SortedRunMerger.Merge(runs.Select(IntermediateFormat.Read).ToList());
            long lines = 0;
            var bytesOut = AtomicFile.Write(Path.Combine(_options.OutputDirectory, ReduceTaskRunner.OutputFileName(task.Task)),
                stream => lines = ReduceTaskRunner.RunSorted(_options.App, Counted(merged), stream));
            IEnumerable<KeyValue> Counted(IEnumerable<KeyValue> records)
            {
                foreach (var record in records)
                {
                    recordsIn++;
                    yield return record;
                }
            }
            report.Succeeded = true;
            report.Counters = new Protos.TaskCounters { RecordsIn = recordsIn, RecordsOut = lines, BytesIn = bytesIn, BytesOut = bytesOut };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            report.Error = $"reduce {task.Task}: {e.GetType().Name}: {e.Message}";
        }
        return report;
    }

    /// <summary>One map task's partition for this reducer, or null if it cannot be had (the map must run again).</summary>
    private async Task<MemoryStream?> FetchAsync(MapLocation location, int reduceTask, CancellationToken cancellationToken)
    {
        if (location.Address.Length == 0)
        {
            var path = Path.Combine(_options.WorkDirectory, IntermediateFormat.FileName(location.MapTask, reduceTask));
            try { return new MemoryStream(await File.ReadAllBytesAsync(path, cancellationToken), writable: false); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        }
        try
        {
            var client = new Shuffle.ShuffleClient(Channel(location.Address));
            using var call = client.FetchPartition(new FetchPartitionRequest { MapTask = location.MapTask, ReduceTask = reduceTask },
                deadline: DateTime.UtcNow + _options.FetchTimeout, cancellationToken: cancellationToken);
            var buffer = new MemoryStream();
            while (await call.ResponseStream.MoveNext(cancellationToken)) call.ResponseStream.Current.Data.WriteTo(buffer);
            buffer.Position = 0;
            return buffer;
        }
        catch (RpcException e) when (e.StatusCode is not StatusCode.Cancelled)
        {
            return null;
        }
    }

    private async Task ReportAsync(Protos.Coordinator.CoordinatorClient coordinator, ReportTaskRequest report)
    {
        // A lost report is harmless: the attempt times out and the task runs again.
        try { await coordinator.ReportTaskAsync(report, deadline: DateTime.UtcNow + CallTimeout); }
        catch (RpcException) { }
        catch (SocketException) { }
    }

    private ReportTaskRequest NewReport(GetTaskReply task) =>
        new() { WorkerId = _options.WorkerId, Kind = task.Kind, Task = task.Task, Attempt = task.Attempt };

    private GrpcChannel Channel(string address)
    {
        if (!_channels.TryGetValue(address, out var channel))
        {
            channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2), EnableMultipleHttp2Connections = true },
                MaxReceiveMessageSize = 4 << 20,
            });
            _channels.Add(address, channel);
        }
        return channel;
    }
}
