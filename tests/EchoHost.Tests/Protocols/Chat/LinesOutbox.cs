using System.Text;
using EchoHost.Protocols.Chat;
using EchoHost.Protocols.Chat.Core;

namespace EchoHost.Tests.Protocols.Chat;

/// <summary>What the chat sent one user, decoded line by line; <see cref="Refuse"/> makes it a queue that is full.</summary>
internal sealed class LinesOutbox : IChatOutbox
{
    public List<string> Lines { get; } = [];

    public bool Refuse { get; set; }

    public bool TryEnqueue(byte[] line)
    {
        if (Refuse)
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(line);
        Assert.EndsWith("\r\n", text);
        Lines.Add(text[..^2]);
        return true;
    }

    public bool TryEnqueueWithin(byte[] line, long limit) => TryEnqueue(line);
}
