namespace Flotilla.Linearizability.Reporting;

/// <summary>The CSS every Flotilla HTML page shares (src/Shared/flotilla.css, embedded): the check report and the
/// server console look alike.</summary>
internal static class SharedLook
{
    public static string Css { get; } = Read();

    private static string Read()
    {
        using var stream = typeof(SharedLook).Assembly.GetManifestResourceStream("Flotilla.Look.css")
            ?? throw new InvalidOperationException("the embedded Flotilla.Look.css is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
