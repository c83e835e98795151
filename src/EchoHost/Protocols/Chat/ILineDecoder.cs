namespace EchoHost.Protocols.Chat;

/// <summary>Turns one connection's bytes into lines (chat or IRC framing); state carries across calls.</summary>
internal interface ILineDecoder
{
    void Decode(ReadOnlySpan<byte> bytes, List<ChatInput> output);

    /// <summary>At the end of input: a last line without a line ending still counts.</summary>
    void Complete(List<ChatInput> output);
}
