using System.Text.RegularExpressions;

namespace EchoHost.Tests.Protocols.IrcClients;

/// <summary>
/// A real IRC client run by a test (irssi in tmux, WeeChat headless): what its user types, and what it shows, read
/// from its log files. <see cref="Shows"/> turns an event into the line this client displays for it, so one scenario
/// runs unchanged against every client.
/// </summary>
internal interface IIrcClient : IAsyncDisposable
{
    /// <summary>"irssi", "WeeChat": for messages.</summary>
    string Name { get; }

    ClientLog Log { get; }

    IrcClientLines Shows { get; }

    /// <summary>Types a message to a channel, as its user would in that channel's window.</summary>
    Task SayAsync(string channel, string text);

    /// <summary><c>/me</c> in a channel.</summary>
    Task ActAsync(string channel, string text);

    /// <summary>Any command as typed, such as <c>/nick ann2</c> or <c>/join #lobby</c>.</summary>
    Task CommandAsync(string command);

    /// <summary><c>/quit</c>, then waits until the client has exited.</summary>
    Task QuitAsync(string message);
}

/// <summary>The line a client displays for each event, as a pattern over one line of its log.</summary>
internal abstract class IrcClientLines
{
    public abstract Regex Message(string nick, string text);

    public abstract Regex Action(string nick, string text);

    public abstract Regex Joined(string nick, string channel);

    public abstract Regex Left(string nick, string channel);

    public abstract Regex Quit(string nick);

    public abstract Regex NickChanged(string oldNick, string newNick);

    public abstract Regex YouAreNow(string nick);

    /// <summary>Someone else set a channel's topic.</summary>
    public abstract Regex TopicChanged(string nick, string channel, string topic);

    /// <summary>The names list of a channel, on joining it, naming <paramref name="nick"/>.</summary>
    public abstract Regex InNames(string channel, string nick);

    /// <summary>A nick as a client prints it: perhaps after a one-character mode prefix (@, +, or a space for none).</summary>
    protected static string Nick(string nick) => $"[@+ ]?{Regex.Escape(nick)}";

    protected static string Text(string text) => Regex.Escape(text);
}
