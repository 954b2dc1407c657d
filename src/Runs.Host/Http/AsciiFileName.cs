namespace Runs.Host.Http;

/// <summary>An ASCII stand-in for a file name, for clients that do not read <c>filename*</c>.</summary>
public static class AsciiFileName
{
    public static string Of(string name)
    {
        var ascii = new string([.. name.Select(c => c is >= ' ' and <= '~' and not '"' and not '\\' ? c : '_')]);
        return $"\"{ascii}\"";
    }
}
