namespace EchoHost.Load.Benchmark;

/// <summary>
/// What Linux says about a server process: CPU time (user + system, all threads) and resident memory.
/// <paramref name="SystemSeconds"/> is the kernel's share of the CPU time: system calls and, on loopback, the TCP
/// work of both ends of a send, which no change to the server's own code can remove.
/// </summary>
internal readonly record struct ProcessFigures(double CpuSeconds, long RssKiB, double SystemSeconds = 0)
{
    public static ProcessFigures operator +(ProcessFigures a, ProcessFigures b) =>
        new(a.CpuSeconds + b.CpuSeconds, a.RssKiB + b.RssKiB, a.SystemSeconds + b.SystemSeconds);

    private static readonly double _ticksPerSecond = ClockTicks();

    public static ProcessFigures Of(int pid)
    {
        // /proc/<pid>/stat: "pid (comm) state ..." — comm may hold spaces, so count fields after the last ')'.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var (user, system) = (long.Parse(fields[11]), long.Parse(fields[12])); // utime, stime: fields 14 and 15 of the line
        long rss = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
                break;
            }
        }

        return new ProcessFigures((user + system) / _ticksPerSecond, rss, system / _ticksPerSecond);
    }

    private static double ClockTicks()
    {
        // sysconf(_SC_CLK_TCK) is 100 on every Linux build that matters; getconf confirms it where present.
        try
        {
            using var getconf = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true, UseShellExecute = false });
            var text = getconf?.StandardOutput.ReadToEnd().Trim();
            getconf?.WaitForExit();
            return double.TryParse(text, out var value) && value > 0 ? value : 100;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 100;
        }
    }
}
