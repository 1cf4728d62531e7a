using System.Globalization;

namespace Flotilla.Wal.Format;

/// <summary>
/// Segment files are named <c>{sequence:x16}-{firstIndex:x16}.seg</c>: fixed-width hex so that ordinal order is
/// sequence order, and the first index is visible to an operator listing the directory.
/// </summary>
internal static class SegmentName
{
    public const string Extension = ".seg";

    public static string Format(string directory, ulong sequence, ulong firstIndex) =>
        $"{directory}/{sequence:x16}-{firstIndex:x16}{Extension}";

    public static bool TryParse(string directory, string name, out ulong sequence, out ulong firstIndex)
    {
        sequence = firstIndex = 0;
        var prefix = directory + "/";
        if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(Extension, StringComparison.Ordinal)) return false;
        var stem = name.AsSpan(prefix.Length, name.Length - prefix.Length - Extension.Length);
        return stem.Length == 33 && stem[16] == '-'
            && ulong.TryParse(stem[..16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out sequence)
            && ulong.TryParse(stem[17..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out firstIndex);
    }
}
