using Flotilla.MapReduce.Protos;
using Flotilla.MapReduce.Scheduling;
using Grpc.Core;

namespace Flotilla.MapReduce.Coordinator;

/// <summary>The thin gRPC edge of the coordinator: translates messages to <see cref="JobScheduler"/> calls.</summary>
internal sealed class CoordinatorService(CoordinatorState state) : Protos.Coordinator.CoordinatorBase
{
    public override Task<GetTaskReply> GetTask(GetTaskRequest request, ServerCallContext context)
    {
        var options = state.Options;
        var reply = state.NextAssignment(request.WorkerId) switch
        {
            Assignment.Map map => new GetTaskReply { Kind = TaskKind.Map, Task = map.Task, Attempt = map.Attempt, InputFile = map.InputFile },
            Assignment.Reduce reduce => WithLocations(new GetTaskReply { Kind = TaskKind.Reduce, Task = reduce.Task, Attempt = reduce.Attempt }, reduce),
            Assignment.Exit => new GetTaskReply { Kind = TaskKind.Exit },
            _ => new GetTaskReply { Kind = TaskKind.Wait },
        };
        reply.MapCount = options.InputFiles.Count;
        reply.ReduceCount = options.ReduceCount;
        reply.Combine = options.Combine;
        reply.Partitioner = options.Partitioner;
        reply.ShuffleOverRpc = options.ShuffleOverRpc;
        return Task.FromResult(reply);
    }

    public override Task<ReportTaskReply> ReportTask(ReportTaskRequest request, ServerCallContext context)
    {
        var c = request.Counters ?? new Protos.TaskCounters();
        var counters = new Core.TaskCounters(c.RecordsIn, c.RecordsOut, c.BytesIn, c.BytesOut);
        var accepted = false;
        state.Seen(request.WorkerId);
        if (!request.Succeeded) state.Fail(request.Attempt, request.UnreachableMapTasks, request.Error);
        else if (request.Kind == TaskKind.Map) accepted = state.CompleteMap(request.Attempt, request.ShuffleAddress, counters);
        else if (request.Kind == TaskKind.Reduce) accepted = state.CompleteReduce(request.Attempt, counters);
        return Task.FromResult(new ReportTaskReply { Accepted = accepted });
    }

    private static GetTaskReply WithLocations(GetTaskReply reply, Assignment.Reduce reduce)
    {
        for (var m = 0; m < reduce.MapLocations.Count; m++) reply.Locations.Add(new MapLocation { MapTask = m, Address = reduce.MapLocations[m] });
        return reply;
    }
}
