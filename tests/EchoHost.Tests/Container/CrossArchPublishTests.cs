using System.Text.Json.Nodes;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Container;

/// <summary>
/// The arm64 half of the multi-arch image, without an engine or an arm64 machine: the Dockerfile's build stage runs
/// here with BuildKit's TARGETARCH=arm64 (what `docker buildx build --platform linux/arm64` gives it on any build
/// machine), and what it publishes must be an arm64 app: an AArch64 ELF apphost and arm64 dependencies.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CrossArchPublishTests
{
    /// <summary>ELF e_machine values (the System V ABI's registry).</summary>
    private const ushort X86_64 = 0x3E, AArch64 = 0xB7;

    [Fact]
    public async Task The_build_stage_with_TARGETARCH_arm64_publishes_an_AArch64_apphost()
    {
        var dockerfile = Dockerfile.Load(Repository.Path("Dockerfile"));
        using var scratch = new ContainerSmokeTests.ScratchFolder();

        var app = await ContainerSmokeTests.BuildAsync(dockerfile, scratch, targetArch: "arm64");

        var machine = ElfMachine(Path.Combine(app, "EchoHost"));
        Assert.True(machine == AArch64, $"the apphost is for ELF machine 0x{machine:X2}, not AArch64 (0xB7): the build stage did not cross-compile");
        // Framework-dependent, as the runtime stage expects: the aspnet base image brings the arm64 runtime.
        var runtimeTarget = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(app, "EchoHost.deps.json")))!.Text("runtimeTarget", "name");
        Assert.EndsWith("/linux-arm64", runtimeTarget);
        Assert.False(File.Exists(Path.Combine(app, "libcoreclr.so")), "the publish is self-contained; the image's runtime stage brings .NET");
    }

    /// <summary>The reader itself, on a program of this machine: an x86-64 host must not read as AArch64.</summary>
    [Fact]
    public void The_elf_reader_tells_this_machine_apart()
    {
        var expected = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => X86_64,
            System.Runtime.InteropServices.Architecture.Arm64 => AArch64,
            var other => throw new PlatformNotSupportedException($"no e_machine known for {other}"),
        };

        Assert.Equal(expected, ElfMachine(Environment.ProcessPath!));
    }

    /// <summary>e_machine of a 64-bit little-endian ELF file, after checking its identification bytes.</summary>
    private static ushort ElfMachine(string path)
    {
        Span<byte> header = stackalloc byte[20];
        using (var file = File.OpenRead(path))
        {
            file.ReadExactly(header);
        }

        Assert.True(header[0] == 0x7F && header[1..4].SequenceEqual("ELF"u8), $"{path} is not an ELF file");
        Assert.True(header[4] == 2 && header[5] == 1, $"{path} is not a 64-bit little-endian ELF file (class {header[4]}, data {header[5]})");
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(header[18..]);
    }
}
