using Flotilla.MapReduce.Apps;

namespace Flotilla.MapReduce.Core;

/// <summary>The reference: runs a whole job in one process and writes everything to one file (like mrsequential.go).</summary>
public static class SequentialRunner
{
    public static long Run(IMapReduceApp app, IReadOnlyList<string> inputFiles, string outputPath)
    {
        InputFiles.Validate(inputFiles);
        var records = new List<KeyValue>();
        foreach (var file in inputFiles) records.AddRange(app.Map(file, File.ReadAllText(file)));
        long lines = 0;
        AtomicFile.Write(outputPath, stream => lines = ReduceTaskRunner.Run(app, records, stream));
        return lines;
    }
}
