using System.Diagnostics;
using System.Text;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// A command-line client (openssl s_client, ncat) kept running while the test talks through its standard input and
/// reads its standard output as raw bytes; killed on dispose.
/// </summary>
internal sealed class InteractiveTool : IAsyncDisposable
{
    private readonly Process _process;
    private readonly MemoryStream _output = new();
    private readonly StringBuilder _errors = new();
    private readonly Task _reading;
    private readonly SemaphoreSlim _arrived = new(0);

    private InteractiveTool(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) => { lock (_errors) { _errors.AppendLine(e.Data); } };
        _process.BeginErrorReadLine();
        _reading = Task.Run(async () =>
        {
            var buffer = new byte[8192];
            int read;
            while ((read = await _process.StandardOutput.BaseStream.ReadAsync(buffer)) > 0)
            {
                lock (_output)
                {
                    _output.Write(buffer, 0, read);
                }

                _arrived.Release();
            }

            _arrived.Release();
        });
    }

    public static InteractiveTool Start(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(ExternalTools.Find(program) ?? program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return new InteractiveTool(Process.Start(info) ?? throw new InvalidOperationException($"Could not start {program}."));
    }

    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    public byte[] Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToArray();
            }
        }
    }

    public async Task WriteAsync(byte[] bytes)
    {
        await _process.StandardInput.BaseStream.WriteAsync(bytes);
        await _process.StandardInput.BaseStream.FlushAsync();
    }

    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Waits until the output satisfies <paramref name="done"/> (or the program ends); the timeout only guards against a hang.</summary>
    public async Task<byte[]> WaitForOutputAsync(Func<byte[], bool> done)
    {
        var token = TestTimeouts.Token(TestTimeouts.Process);
        while (true)
        {
            var output = Output;
            if (done(output) || _reading.IsCompleted)
            {
                return output;
            }

            try
            {
                await _arrived.WaitAsync(token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{_process.StartInfo.FileName} wrote {output.Length} bytes, not what was expected; stderr:\n{Errors}");
            }
        }
    }

    public Task<byte[]> WaitForTextAsync(string text) =>
        WaitForOutputAsync(output => Encoding.UTF8.GetString(output).Contains(text, StringComparison.Ordinal));

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync(TestTimeouts.Token(TestTimeouts.Process));
        await _reading;
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
