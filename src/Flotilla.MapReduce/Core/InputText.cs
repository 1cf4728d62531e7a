using System.Text;

namespace Flotilla.MapReduce.Core;

/// <summary>An input file's bytes as the text <c>File.ReadAllText</c> would give: UTF-8 unless a byte order mark says otherwise.</summary>
internal static class InputText
{
    public static string Decode(byte[] contents)
    {
        using var reader = new StreamReader(new MemoryStream(contents, writable: false), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }
}
