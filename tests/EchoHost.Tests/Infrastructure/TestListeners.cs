using EchoHost.Configuration;

namespace EchoHost.Tests.Infrastructure;

internal static class TestListeners
{
    /// <summary>An echo listener definition for handler and session units; no limits unless given.</summary>
    public static ListenerDefinition Echo(TimeSpan? idleTimeout = null, string? banner = null) =>
        new("Echo", ListenerProtocol.Echo, BindAddress.Localhost, 0, idleTimeout ?? TimeSpan.Zero, 0, 0, banner);
}
