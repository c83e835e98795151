namespace EchoHost.Tests.Protocols.Discard;

/// <summary>The Discard protocol's own listener keys (<see cref="DiscardProtocol.Registration"/>'s <c>ListenerOptions</c>).</summary>
public sealed class DiscardListenerOptions
{
    /// <summary>Bytes a connection may send before it is closed; <c>0</c> means no limit. Configuration only: the handler ignores it.</summary>
    public int CloseAfterBytes { get; set; }
}
