using System.Text;
using System.Text.RegularExpressions;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.IrcClients;

/// <summary>
/// What a real IRC client showed, read from the log files it writes as it displays (irssi's log, WeeChat's logger):
/// a test waits until a line matches. The clients give no event to wait on, so the files are read again every 100 ms
/// until a generous deadline, which only stops a hang; nothing is asserted on how long it took.
/// </summary>
internal sealed class ClientLog(string client, Func<IEnumerable<string>> files, Func<Task<string>>? screen = null)
{
    /// <summary>Every line of every log file, in file order.</summary>
    public IReadOnlyList<string> Lines()
    {
        var lines = new List<string>();
        foreach (var file in files().Order(StringComparer.Ordinal))
        {
            try
            {
                // The client keeps the file open for writing.
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream, Encoding.UTF8);
                while (reader.ReadLine() is { } line)
                {
                    lines.Add(line);
                }
            }
            catch (FileNotFoundException)
            {
            }
        }

        return lines;
    }

    /// <summary>
    /// Waits until at least <paramref name="count"/> lines match <paramref name="pattern"/> (a second join of the same
    /// user is the second matching line); returns the last matching line. Fails with the whole log, and the screen
    /// where there is one, if it does not come.
    /// </summary>
    public async Task<string> WaitForAsync(Regex pattern, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TestTimeouts.Long);
        while (true)
        {
            var matching = Lines().Where(line => pattern.IsMatch(line)).ToList();
            if (matching.Count >= count)
            {
                return matching[count - 1];
            }

            if (DateTime.UtcNow > deadline)
            {
                var shown = screen is null ? "" : $"\nIts screen:\n{await screen()}";
                throw new TimeoutException($"{client} did not show {count} line(s) matching /{pattern}/. Its log:\n{string.Join('\n', Lines())}{shown}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Waits for a line containing <paramref name="text"/> as it is.</summary>
    public Task<string> WaitForTextAsync(string text, int count = 1) => WaitForAsync(new Regex(Regex.Escape(text)), count);
}
