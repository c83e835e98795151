using EchoHost.Configuration;
using Microsoft.AspNetCore.Connections;

namespace EchoHost.Tests.Protocols.Discard;

/// <summary>
/// RFC 863 discard over TCP, registered only in a test host: ARCHITECTURE.md's "adding a protocol" followed once.
/// A handler and one registration; nothing in src/ learns its name.
/// </summary>
internal static class DiscardProtocol
{
    public static ProtocolRegistration Registration { get; } = new("Discard", ListenerTransport.Tcp)
    {
        Handler = static (_, _) => new DiscardConnectionHandler(),
        // A key of Discard listeners alone, to show a plug-in's own listener keys are checked, bound and refused
        // elsewhere with nothing central naming them.
        ListenerOptions = typeof(DiscardListenerOptions),
        ValidateListener = static (path, own, failures) =>
        {
            if (((DiscardListenerOptions)own).CloseAfterBytes < 0)
            {
                failures.Add($"{path}:{nameof(DiscardListenerOptions.CloseAfterBytes)}: must not be negative; use 0 for no limit");
            }
        },
    };

    public static IServiceCollection AddDiscardProtocol(this IServiceCollection services) => services.AddProtocol(Registration);

    /// <summary>Reads everything and drops it; closes when the client does (or the host asks).</summary>
    private sealed class DiscardConnectionHandler : ConnectionHandler
    {
        public override async Task OnConnectedAsync(ConnectionContext connection)
        {
            var input = connection.Transport.Input;
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await input.ReadAsync(connection.ConnectionClosed);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
    }
}
