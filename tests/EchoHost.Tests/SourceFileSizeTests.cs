using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests;

/// <summary>
/// One concept per file: a source file past 400 lines has usually taken on a second job (the chat
/// server and the PostgreSQL backplane had eight and eleven jobs before they were split). Data files are not code.
/// </summary>
public sealed class SourceFileSizeTests
{
    private const int MaxLines = 400;

    [Fact]
    public void No_source_file_in_src_is_over_400_lines()
    {
        var src = Repository.Path("src");
        var tooLong = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(file => !IsBuildOutput(Path.GetRelativePath(src, file)))
            .Select(file => (File: Path.GetRelativePath(Repository.Root, file), Lines: File.ReadLines(file).Count()))
            .Where(f => f.Lines > MaxLines)
            .Select(f => $"{f.File}: {f.Lines} lines")
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(tooLong.Count == 0, $"split by job, as Protocols/Chat/Core and Protocols/Chat/Backplane are:\n{string.Join('\n', tooLong)}");
    }

    private static bool IsBuildOutput(string relative) =>
        relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj");
}
