using EchoHost.Configuration;
using EchoHost.Protocols.Echo;

namespace EchoHost.Tests.Infrastructure;

internal static class TestListeners
{
    /// <summary>An echo listener definition for handler and session units; no limits unless given.</summary>
    public static ListenerDefinition Echo(TimeSpan? idleTimeout = null, string? banner = null) =>
        new("Echo", EchoProtocol.Registration, BindAddress.Localhost, 0, idleTimeout ?? TimeSpan.Zero, 0, 0, banner);
}
