using EchoHost.Configuration;
using EchoHost.Pipeline;

namespace EchoHost.Hosting;

/// <summary>
/// Sends each request that came in on a listener whose protocol speaks HTTP (a Web listener) to that listener's own
/// branch, which ends there: such a request never reaches the HTTP endpoint's routes (<c>/metrics</c>, health,
/// <c>/connections</c>), and a request to the HTTP endpoint never reaches a listener's branch.
/// </summary>
internal static class ListenerApplications
{
    public static WebApplication UseListenerApplications(this WebApplication app)
    {
        foreach (var listener in app.Services.GetRequiredService<ListenerSet>().Tcp)
        {
            if (listener.Protocol.HttpApplication is { } build)
            {
                // The connection pipeline gave every connection of the listener its session (Pipeline/ConnectionSession);
                // Kestrel's request features fall back to the connection's.
                app.MapWhen(context => ReferenceEquals(context.Features.Get<ConnectionSession>()?.Listener, listener), branch => build(branch, listener));
            }
        }

        // Called here, after the branches, so that WebApplication does not put routing before them.
        app.UseRouting();
        return app;
    }
}
