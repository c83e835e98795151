using System.Text.Json;
using System.Text.RegularExpressions;

namespace EchoHost.Configuration;

/// <summary>
/// A configuration file that would not load (invalid JSON in appsettings.json), as one line: the file the user edited,
/// the line and column, and what is wrong there.
/// </summary>
internal static partial class ConfigurationFileErrors
{
    /// <summary>The one line for <c>Failed to load configuration from file '…'</c>, or null when it is some other failure.</summary>
    public static string? Describe(InvalidDataException exception)
    {
        if (FailedToLoad().Match(exception.Message) is not { Success: true } match)
        {
            return null;
        }

        var copy = match.Groups["path"].Value;
        var source = EditedFile(copy);
        var where = source is null ? copy : source;
        var what = FindJsonError(exception) is { } json
            // System.Text.Json counts lines and byte positions from 0; editors count from 1.
            ? $"line {json.LineNumber + 1}, column {json.BytePositionInLine + 1}: invalid JSON: {WithoutPosition(json.Message)}"
            : OneLine(exception.InnerException?.Message ?? exception.Message);
        var copied = source is null ? string.Empty : $" (fix it there: the build copies it to {copy}, the file the host reads)";
        return $"{where}: {what}{copied}";
    }

    /// <summary>
    /// The file the loaded one was copied from: the build copies the repository's root appsettings.json beside the
    /// binary, so the nearest folder above with a file of that name and the same content is the one the user edits.
    /// </summary>
    private static string? EditedFile(string copy)
    {
        try
        {
            var content = File.ReadAllBytes(copy);
            for (var dir = Directory.GetParent(Path.GetDirectoryName(copy)!); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, Path.GetFileName(copy));
                if (File.Exists(candidate))
                {
                    return File.ReadAllBytes(candidate).AsSpan().SequenceEqual(content) ? candidate : null;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Unreadable: name the file that was loaded.
        }

        return null;
    }

    private static JsonException? FindJsonError(Exception exception)
    {
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is JsonException { LineNumber: not null, BytePositionInLine: not null } json)
            {
                return json;
            }
        }

        return null;
    }

    /// <summary>The parser's message ends with " LineNumber: 4 | BytePositionInLine: 4.", said better above.</summary>
    private static string WithoutPosition(string message)
    {
        var at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return OneLine(at < 0 ? message : message[..at]).TrimEnd('.');
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    [GeneratedRegex("^Failed to load configuration from file '(?<path>.+)'\\.")]
    private static partial Regex FailedToLoad();
}
