using EchoHost.Configuration;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Irc;

namespace EchoHost.Protocols.Web;

/// <summary>
/// The chat and IRC connection handlers of one Web listener (<see cref="WebListener.Lines"/>), made once, on its first
/// WebSocket of each kind, and shared by the rest, as a TCP listener shares its handler. Each sees the Web listener as
/// its listener (its name in logs and metrics, its idle timeout) with the own keys of the host's first chat or IRC
/// listener, or their defaults when there is none: a WebSocket user gets the same greeting, and an IRC client the same server name and line limit, as on TCP.
/// </summary>
internal sealed class WebSocketLineHandlers
{
    private readonly WebListener _web;
    private readonly Lazy<ChatConnectionHandler> _chat;
    private readonly Lazy<IrcConnectionHandler> _irc;

    public WebSocketLineHandlers(WebListener web)
    {
        _web = web;
        _chat = new(Create<ChatConnectionHandler, ChatListenerOptions>);
        _irc = new(Create<IrcConnectionHandler, IrcListenerOptions>);
    }

    public ChatConnectionHandler Chat => _chat.Value;

    public IrcConnectionHandler Irc => _irc.Value;

    private THandler Create<THandler, TOptions>()
        where TOptions : class, new()
    {
        var own = _web.Services.GetRequiredService<ListenerSet>().All
            .FirstOrDefault(l => l.Protocol.ListenerOptions == typeof(TOptions))?.Own<TOptions>() ?? new TOptions();
        var listener = _web.Listener with { OwnOptions = own };
        return ActivatorUtilities.CreateInstance<THandler>(_web.Services, listener, _web.Metrics);
    }
}
