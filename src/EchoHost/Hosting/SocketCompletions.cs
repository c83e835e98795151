namespace EchoHost.Hosting;

/// <summary>
/// On Linux, .NET's sockets learn that a pending receive or send can go on from one event thread (epoll), which by
/// default posts each such completion to the thread pool. With inline completions the event thread runs it itself.
/// Behind Kestrel's socket transport that work is short: the receive loop copies what arrived into the connection's
/// pipe and schedules the handler on the thread pool, and the send loop goes on to its next send. Running it inline
/// saves one thread-pool hand-off per completion and keeps every handler on the thread pool, so one busy connection
/// cannot hold up the others. (Kestrel's <c>UnsafePreferInlineScheduling</c>, which runs the handlers on the event
/// thread too, does let it: measured, see the README's Performance section, and not used.)
/// <para>
/// The runtime reads <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> once, when the process first waits on a
/// socket, so EchoHost sets it for itself before anything opens one. A value set in the environment wins:
/// <c>0</c> turns inline completions off.
/// </para>
/// </summary>
internal static class SocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static void PreferInline()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 })
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }
}
