using System.Net;
using EchoHost.Harness;

namespace EchoHost.Load.Benchmark;

/// <summary>
/// InspIRCd 3 as the chat anchor: a minimal configuration in a temporary folder, one loopback client port, no DNS or
/// ident lookups, and connect-class limits raised so that hundreds of users from one address sending steadily are
/// accepted rather than throttled (no fakelag, high command rate, large send queues).
/// </summary>
internal static class InspIrcd
{
    public const string InstallHint = "not installed: sudo apt-get install inspircd";

    public static string? Find(string? given)
    {
        if (given is not null)
        {
            return File.Exists(given) ? Path.GetFullPath(given) : throw new UsageException($"--inspircd: '{given}' does not exist");
        }

        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/sbin").Append("/usr/local/sbin");
        return path.Select(dir => Path.Combine(dir, "inspircd")).FirstOrDefault(File.Exists);
    }

    public static ChildProcess Start(string binary, int port, string directory)
    {
        var config = Path.Combine(directory, "inspircd.conf");
        File.WriteAllText(Path.Combine(directory, "motd.txt"), "echohost-load benchmark\n");
        File.WriteAllText(config, $"""
            <config format="xml">
            <server name="bench.echohost.test" description="echohost-load anchor" network="Bench">
            <admin name="bench" nick="bench" email="bench@echohost.test">
            <bind address="127.0.0.1" port="{port}" type="clients">
            <connect name="bench" allow="127.0.0.0/8" maxchans="20" timeout="60" pingfreq="600" hardsendq="8388608"
                     softsendq="1048576" recvq="65536" threshold="1000000" commandrate="1000000" fakelag="off"
                     localmax="100000" globalmax="100000" maxconnwarn="off" useident="no" limit="100000" resolvehostnames="no">
            <performance netbuffersize="65536" somaxconn="4096" softlimit="60000" clonesonconnect="no" quietbursts="yes" nouserdns="yes">
            <options prefixquit="" suffixquit="" syntaxhints="no" cyclehosts="no" announcets="no" hostintopic="no"
                     defaultmodes="nt" maxtargets="20" allowzerolimit="no">
            <security hidesplits="no" hideulines="no" announceinvites="dynamic" maxtargets="20" customversion="">
            <limits maxnick="30" maxchan="64" maxmodes="20" maxident="11" maxhost="64" maxquit="255" maxtopic="307"
                    maxkick="255" maxreal="128" maxgecos="128" maxaway="200" maxline="1024">
            <channels users="100" opers="100">
            <files motd="{Path.Combine(directory, "motd.txt")}">
            <log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{Path.Combine(directory, "inspircd.log")}">
            """);
        var args = new List<string> { "--config", config, "--nofork", "--nopid" };
        if (Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root" || File.ReadAllText("/proc/self/status").Contains("\nUid:\t0\t"))
        {
            args.Add("--runasroot"); // it refuses root otherwise; a benchmark in a container often is root
        }

        return ServerProcess.Start("InspIRCd", binary, args, new Dictionary<string, string>(), directory, directory);
    }

    public static IPEndPoint EndPoint(int port) => new(IPAddress.Loopback, port);
}
