namespace Runs.Host.Http;

/// <summary>What input and output uploads have in common: the media type, and the rule for file names.</summary>
public static class Uploads
{
    public static bool IsMultipart(HttpRequest request) =>
        request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>The last path segment of a client's file name; null when none is left or it breaks the rule.</summary>
    public static string? FileName(string? given)
    {
        var name = Path.GetFileName(given?.Replace('\\', '/'));
        return string.IsNullOrWhiteSpace(name) || name.Length > 255 || name.Any(char.IsControl) ? null : name;
    }

    public const string FileNameRule = "File names must be 1–255 characters without control characters.";
}
