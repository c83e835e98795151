using EchoHost.Hosting;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Configuration;

/// <summary>An appsettings.json that is not valid JSON: one line naming the file the user edited, its line and column.</summary>
public sealed class ConfigurationFileErrorsTests : IDisposable
{
    // Line 5 lacks the comma after line 4's value: the parser stops at line 5, column 5 (the quote of "Http").
    private const string MissingComma = "{\n  \"EchoHost\": {\n    \"Address\": \"127.0.0.1\",\n    \"ShutdownTimeout\": \"00:00:15\"\n    \"Http\": { \"Port\": 0 }\n  }\n}\n";

    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("echohost-json-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void Invalid_json_in_a_copy_made_from_a_file_above_names_that_file_with_line_and_column()
    {
        // As the build lays it out: the root appsettings.json and, below it, the copy the host reads.
        var bin = Directory.CreateDirectory(Path.Combine(_root.FullName, "bin", "Debug"));
        var edited = Path.Combine(_root.FullName, "appsettings.json");
        var copy = Path.Combine(bin.FullName, "appsettings.json");
        File.WriteAllText(edited, MissingComma);
        File.WriteAllText(copy, MissingComma);

        var failure = Assert.ThrowsAny<Exception>(() => Program.BuildApp([], contentRoot: bin.FullName));

        Assert.Equal(
            [$"EchoHost: configuration error: {edited}: line 5, column 5: invalid JSON: '\"' is invalid after a value. Expected either ',', '}}', or ']' "
                + $"(fix it there: the build copies it to {copy}, the file the host reads)"],
            StartupErrors.Describe(failure, null));
    }

    [Fact]
    public void Invalid_json_in_a_file_of_its_own_names_that_file()
    {
        var file = Path.Combine(_root.FullName, "appsettings.json");
        File.WriteAllText(file, MissingComma);

        var failure = Assert.ThrowsAny<Exception>(() => Program.BuildApp([], contentRoot: _root.FullName));

        Assert.Equal(
            [$"EchoHost: configuration error: {file}: line 5, column 5: invalid JSON: '\"' is invalid after a value. Expected either ',', '}}', or ']'"],
            StartupErrors.Describe(failure, null));
    }

    [Fact]
    public async Task The_binary_with_invalid_json_beside_it_prints_one_line_and_exits_one()
    {
        // A copy of the built binary whose appsettings.json is broken; the shipped one beside the tests stays intact.
        var app = Directory.CreateDirectory(Path.Combine(_root.FullName, "app"));
        var hostDll = HostProcess.CopyHost(app.FullName, MissingComma);
        var settings = Path.Combine(app.FullName, "appsettings.json");

        await using var process = HostProcess.Start([], hostDll: hostDll);

        Assert.Equal(1, await process.WaitForExitAsync());
        Assert.Equal(
            $"EchoHost: configuration error: {settings}: line 5, column 5: invalid JSON: '\"' is invalid after a value. Expected either ',', '}}', or ']'",
            process.StandardError.Trim());
    }

    [Fact]
    public async Task The_health_probe_with_invalid_json_beside_it_prints_one_line_and_exits_one()
    {
        var app = Directory.CreateDirectory(Path.Combine(_root.FullName, "probe"));
        var hostDll = HostProcess.CopyHost(app.FullName, MissingComma);

        await using var process = HostProcess.Start(["--health"], hostDll: hostDll);

        Assert.Equal(1, await process.WaitForExitAsync());
        Assert.Equal(
            $"EchoHost: configuration error: {Path.Combine(app.FullName, "appsettings.json")}: line 5, column 5: invalid JSON: '\"' is invalid after a value. Expected either ',', '}}', or ']'",
            process.StandardError.Trim());
    }
}
