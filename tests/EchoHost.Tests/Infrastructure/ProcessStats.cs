namespace EchoHost.Tests.Infrastructure;

/// <summary>What Linux says about a process: resident memory, threads and open file descriptors, from /proc.</summary>
internal readonly record struct ProcessStats(long RssBytes, int Threads, int OpenFiles)
{
    public static ProcessStats Of(int pid)
    {
        long rss = 0;
        var threads = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            }
            else if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                threads = int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1].Trim());
            }
        }

        return new ProcessStats(rss, threads, Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length);
    }

    public override string ToString() => $"RSS {RssBytes / 1024} KiB, {Threads} threads, {OpenFiles} open files";
}
