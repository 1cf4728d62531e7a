namespace Flotilla.MapReduce.Core;

public static class InputFiles
{
    /// <summary>Fails with one clear message if any input is missing or unreadable, before any work starts.</summary>
    public static void Validate(IReadOnlyList<string> inputFiles)
    {
        if (inputFiles.Count == 0) throw new MapReduceException(MapReduceError.BadInput, "no input files given");
        foreach (var file in inputFiles)
        {
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var reason = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message;
                throw new MapReduceException(MapReduceError.BadInput, $"cannot read input file '{file}': {reason}", e);
            }
        }
    }
}
