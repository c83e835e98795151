using EchoHost.Configuration;

namespace EchoHost.Tests.Infrastructure;

/// <summary>The protocols the real host registers, for tests that bind, validate or compute options without a host.</summary>
internal static class TestProtocols
{
    public static ProtocolRegistry Registry { get; } = Program.Protocols();

    /// <summary>The validator the host runs, with the host's protocols.</summary>
    public static EchoHostOptionsValidator Validator() => new(Registry);
}
