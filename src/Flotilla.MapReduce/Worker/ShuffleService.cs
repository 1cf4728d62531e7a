using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Protos;
using Google.Protobuf;
using Grpc.Core;

namespace Flotilla.MapReduce.Worker;

/// <summary>Serves this worker's finished map output to reducers, so no shared file system is needed.</summary>
internal sealed class ShuffleService(WorkerDirectories directories) : Shuffle.ShuffleBase
{
    private const int ChunkBytes = 256 << 10;

    public override async Task FetchPartition(FetchPartitionRequest request, IServerStreamWriter<DataChunk> responseStream, ServerCallContext context)
    {
        var path = Path.Combine(directories.Work, IntermediateFormat.FileName(request.MapTask, request.ReduceTask));
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, ChunkBytes); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"no output for map task {request.MapTask} partition {request.ReduceTask} here"));
        }
        await using (stream)
        {
            var buffer = new byte[ChunkBytes];
            int read;
            while ((read = await stream.ReadAsync(buffer, context.CancellationToken)) > 0)
                await responseStream.WriteAsync(new DataChunk { Data = ByteString.CopyFrom(buffer, 0, read) }, context.CancellationToken);
        }
    }
}

/// <summary>Where a worker keeps intermediate files (Work) and writes final output (Output).</summary>
internal sealed record WorkerDirectories(string Work, string Output);
