using EchoHost.Tests.Infrastructure;
using System.Net;
using System.Net.Sockets;

namespace EchoHost.Tests.Load;

/// <summary>A server that gets one byte wrong, or drops data, must fail the run: proof that the checks can fail.</summary>
public sealed class MismatchDetectionTests
{
    /// <summary>An echo server that flips the bits of the byte at <paramref name="corruptAt"/> of each connection's stream.</summary>
    private static async Task ServeCorruptingAsync(TcpListener listener, long corruptAt, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var client = await listener.AcceptSocketAsync(stop);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    var buffer = new byte[4096];
                    long offset = 0;
                    try
                    {
                        int n;
                        while ((n = await client.ReceiveAsync(buffer, SocketFlags.None, stop)) > 0)
                        {
                            if (corruptAt >= offset && corruptAt < offset + n)
                            {
                                buffer[corruptAt - offset] ^= 0xFF;
                            }

                            offset += n;
                            await client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, stop);
                        }
                    }
                    catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                    {
                    }
                }
            }, stop);
        }
    }

    [Theory]
    [InlineData("pingpong")]
    [InlineData("stream")]
    [InlineData("churn")]
    public async Task A_corrupted_byte_is_a_mismatch_at_its_offset_and_exit_code_1(string mode)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var server = ServeCorruptingAsync(listener, corruptAt: 5, stop.Token);
        var run = await LoadClientRun.RunAsync(mode, "--target", listener.LocalEndpoint.ToString()!, "--connections", "2", "--size", "16", "--duration", "1", "--json");
        await stop.CancelAsync();

        Assert.Equal(1, run.ExitCode);
        Assert.True(run.Number("mismatches") > 0, run.ToString());
        Assert.Contains("offset 5 ", run.Json.GetProperty("firstError").GetString());
        Assert.False(run.Json.GetProperty("ok").GetBoolean());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server);
    }

    [Fact]
    public async Task The_text_summary_says_FAILED_and_names_the_first_mismatch()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        _ = ServeCorruptingAsync(listener, corruptAt: 40, stop.Token);
        var run = await LoadClientRun.RunAsync("pingpong", "--target", listener.LocalEndpoint.ToString()!, "--connections", "1", "--size", "64", "--count", "3");
        await stop.CancelAsync();

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("mismatches   1", run.Output);
        Assert.Contains("connection 0: echoed byte at offset 40 is 0x11, sent 0xee", run.Output); // as docs/performance.md shows
        Assert.Contains("result       FAILED", run.Output);
    }

    [Fact]
    public async Task A_server_that_answers_nothing_is_an_error_after_the_timeout()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(); // accepts (the kernel does) but never reads nor answers
        var run = await LoadClientRun.RunAsync("pingpong", "--target", listener.LocalEndpoint.ToString()!, "--connections", "1", "--duration", "1", "--timeout", "500ms", "--json");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(1, run.Number("errors"));
        Assert.Contains("no answer within the timeout", run.Json.GetProperty("firstError").GetString());
    }
}
