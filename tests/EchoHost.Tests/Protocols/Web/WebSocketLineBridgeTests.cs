using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using EchoHost.Protocols.Web;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>
/// The bridge between a WebSocket and a line handler's duplex pipe, with no host: a server and a client WebSocket over
/// a real loopback TCP pair; the test plays the handler on <see cref="WebSocketLineBridge.Transport"/>.
/// </summary>
public sealed class WebSocketLineBridgeTests : IAsyncDisposable
{
    private readonly Socket _serverSocket;
    private readonly Socket _clientSocket;
    private readonly WebSocket _server;
    private readonly WebSocket _client;

    public WebSocketLineBridgeTests()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        _clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _clientSocket.Connect(listener.LocalEndPoint!);
        _serverSocket = listener.Accept();
        _server = WebSocket.CreateFromStream(new NetworkStream(_serverSocket, ownsSocket: true), isServer: true, subProtocol: null, Timeout.InfiniteTimeSpan);
        _client = WebSocket.CreateFromStream(new NetworkStream(_clientSocket, ownsSocket: true), isServer: false, subProtocol: null, Timeout.InfiniteTimeSpan);
    }

    [Fact]
    public async Task Each_message_is_one_line_whatever_its_frames_and_a_line_end_it_brings_is_not_doubled()
    {
        var bridge = new WebSocketLineBridge(_server, WebSocketMessageType.Text, acceptBinary: false);
        var receiving = bridge.ReceiveAsync(CancellationToken.None);

        await SendAsync("hel", endOfMessage: false);
        await SendAsync("lo", endOfMessage: true);
        await SendAsync("NICK ana\r\n", endOfMessage: true);
        await SendAsync("", endOfMessage: true);
        await SendAsync("a\nb", endOfMessage: true);

        Assert.Equal("hello\nNICK ana\r\n\na\nb\n", await ReadInputAsync(bridge, "hello\nNICK ana\r\n\na\nb\n".Length));
        await _client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", TestTimeouts.Token());
        Assert.Equal(WebSocketInputEnd.ClientClosed, await receiving.WaitAsync(TestTimeouts.Default));
        var end = await bridge.Transport.Input.ReadAsync(TestTimeouts.Token());
        Assert.True(end.IsCompleted);
    }

    [Fact]
    public async Task Each_line_written_goes_out_as_one_message_without_its_line_end()
    {
        var bridge = new WebSocketLineBridge(_server, WebSocketMessageType.Text, acceptBinary: false);
        var sending = bridge.SendAsync(CancellationToken.None);
        var output = bridge.Transport.Output;

        await output.WriteAsync(Encoding.UTF8.GetBytes("*** one\r\n*** two\r\n*** th"));
        await output.WriteAsync(Encoding.UTF8.GetBytes("ree\r\n"));
        // A line of many pipe segments is still one message.
        var long_ = new string('x', 20_000);
        await output.WriteAsync(Encoding.UTF8.GetBytes(long_ + "\r\n"));
        await output.WriteAsync(Encoding.UTF8.GetBytes("last, with no end"));
        await output.CompleteAsync();
        await sending.WaitAsync(TestTimeouts.Default);

        Assert.Equal(["*** one", "*** two", "*** three", long_, "last, with no end"], await ReadMessagesAsync(5, WebSocketMessageType.Text));
    }

    [Fact]
    public async Task Binary_messages_end_the_input_where_lines_are_text_only()
    {
        var bridge = new WebSocketLineBridge(_server, WebSocketMessageType.Text, acceptBinary: false);
        var receiving = bridge.ReceiveAsync(CancellationToken.None);
        await SendAsync("text first", endOfMessage: true);
        await _client.SendAsync(Encoding.UTF8.GetBytes("binary"), WebSocketMessageType.Binary, endOfMessage: true, TestTimeouts.Token());

        Assert.Equal(WebSocketInputEnd.BinaryRefused, await receiving.WaitAsync(TestTimeouts.Default));
        var input = await bridge.Transport.Input.ReadAsync(TestTimeouts.Token());
        Assert.Equal("text first\n", Encoding.UTF8.GetString(input.Buffer.ToArray()));
        Assert.True(input.IsCompleted);
    }

    [Fact]
    public async Task Binary_messages_carry_lines_and_go_out_as_binary_when_asked()
    {
        var bridge = new WebSocketLineBridge(_server, WebSocketMessageType.Binary, acceptBinary: true);
        _ = bridge.ReceiveAsync(CancellationToken.None);
        var sending = bridge.SendAsync(CancellationToken.None);
        await _client.SendAsync(new byte[] { (byte)'c', 0xE9 }, WebSocketMessageType.Binary, endOfMessage: true, TestTimeouts.Token());
        Assert.Equal("c\uFFFD\n", await ReadInputAsync(bridge, 3));

        await bridge.Transport.Output.WriteAsync(Encoding.UTF8.GetBytes("PING :x\r\n"));
        await bridge.Transport.Output.CompleteAsync();
        await sending.WaitAsync(TestTimeouts.Default);
        Assert.Equal(["PING :x"], await ReadMessagesAsync(1, WebSocketMessageType.Binary));
    }

    [Fact]
    public async Task Once_the_handler_stops_reading_messages_are_dropped_and_the_close_still_seen()
    {
        var bridge = new WebSocketLineBridge(_server, WebSocketMessageType.Text, acceptBinary: false);
        var receiving = bridge.ReceiveAsync(CancellationToken.None);
        await bridge.Transport.Input.CompleteAsync();

        // More than the pipe would hold: nothing waits for a reader that is gone.
        var chunk = new string('z', 16 * 1024);
        for (var i = 0; i < 16; i++)
        {
            await SendAsync(chunk, endOfMessage: true);
        }

        await _client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", TestTimeouts.Token());
        Assert.Equal(WebSocketInputEnd.ClientClosed, await receiving.WaitAsync(TestTimeouts.Default));
    }

    [Fact]
    public async Task A_client_that_goes_away_ends_both_sides()
    {
        var bridge = new WebSocketLineBridge(_server, WebSocketMessageType.Text, acceptBinary: false);
        var receiving = bridge.ReceiveAsync(CancellationToken.None);
        var sending = bridge.SendAsync(CancellationToken.None);
        _clientSocket.Close(0);

        Assert.Equal(WebSocketInputEnd.Failed, await receiving.WaitAsync(TestTimeouts.Default));
        Assert.True((await bridge.Transport.Input.ReadAsync(TestTimeouts.Token())).IsCompleted);
        // The handler's writes end: a flush completes once the sender has given up.
        FlushResult flushed;
        do
        {
            flushed = await bridge.Transport.Output.WriteAsync(Encoding.UTF8.GetBytes(new string('y', 1000) + "\r\n"), TestTimeouts.Token());
        }
        while (!flushed.IsCompleted);

        await sending.WaitAsync(TestTimeouts.Default);
    }

    private Task SendAsync(string text, bool endOfMessage) =>
        _client.SendAsync(Encoding.UTF8.GetBytes(text).AsMemory(), WebSocketMessageType.Text, endOfMessage, TestTimeouts.Token()).AsTask();

    /// <summary>What the handler reads, as UTF-8 (bad bytes as U+FFFD), once <paramref name="bytes"/> have come.</summary>
    private static async Task<string> ReadInputAsync(WebSocketLineBridge bridge, int bytes)
    {
        var input = bridge.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(TestTimeouts.Token());
            if (result.Buffer.Length >= bytes || result.IsCompleted)
            {
                var text = Encoding.UTF8.GetString(result.Buffer.ToArray());
                input.AdvanceTo(result.Buffer.End);
                return text;
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private async Task<List<string>> ReadMessagesAsync(int count, WebSocketMessageType type)
    {
        var messages = new List<string>();
        var buffer = new byte[64 * 1024];
        while (messages.Count < count)
        {
            using var message = new MemoryStream();
            ValueWebSocketReceiveResult received;
            do
            {
                received = await _client.ReceiveAsync(buffer.AsMemory(), TestTimeouts.Token());
                Assert.Equal(type, received.MessageType);
                message.Write(buffer, 0, received.Count);
            }
            while (!received.EndOfMessage);

            messages.Add(Encoding.UTF8.GetString(message.ToArray()));
        }

        return messages;
    }

    public async ValueTask DisposeAsync()
    {
        _client.Abort();
        _server.Abort();
        _client.Dispose();
        _server.Dispose();
        await Task.CompletedTask;
    }
}
