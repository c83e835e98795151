namespace EchoHost.Protocols.Irc;

/// <summary>
/// The IRC renderers of one listener, one per set of capabilities that changes what a user is sent: every user with the
/// same set shares one, so a fan-out renders an event once per set.
/// </summary>
internal sealed class IrcRenderers
{
    private readonly IrcRenderer[] _renderers;

    public IrcRenderers(IrcLines lines, IrcWelcome welcome)
    {
        Lines = lines;
        Welcome = welcome;
        _renderers = [.. from serverTime in new[] { false, true } from echo in new[] { false, true } select new IrcRenderer(lines, welcome, serverTime, echo)];
    }

    public IrcLines Lines { get; }

    public IrcWelcome Welcome { get; }

    public IrcRenderer For(IrcClient client) =>
        _renderers.First(r => r.ServerTime == client.Has("server-time") && r.EchoMessage == client.Has("echo-message"));
}
