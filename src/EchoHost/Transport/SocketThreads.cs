using System.Net.Sockets;
using System.Reflection;

namespace EchoHost.Transport;

/// <summary>
/// The runtime's per-socket inline completions: on Linux, a socket whose completions are inline has its receive and
/// send continuations run on the socket engine's own thread (the epoll loop) instead of being queued to the thread
/// pool, which saves a thread hand-off per operation. The process-wide switch
/// (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>) would put every socket there, a dependency's too (Npgsql's
/// synchronous cancel request once stalled a whole instance that way, issue 26); this turns it on for EchoHost's own
/// accepted sockets only.
/// </summary>
/// <remarks>
/// The runtime keeps the per-socket switch as an experimental API with an internal setter, and marks it
/// <c>DynamicDependency</c> so that it stays reachable by reflection ("Socket.PreferInlineCompletions is an
/// experimental API with internal access modifier", dotnet/runtime SocketAsyncContext.Unix.cs). When a runtime no
/// longer has it, <see cref="Available"/> is false and the listeners run as Kestrel's own transport does.
/// </remarks>
internal static class SocketThreads
{
    private static readonly Action<Socket, bool>? _preferInline = FindSetter();

    /// <summary>Whether this runtime lets one socket's completions run inline (Linux and other Unix systems).</summary>
    public static bool Available => _preferInline is not null;

    /// <summary>Has the socket's completions run on the socket engine's thread; call before its first operation.</summary>
    public static void PreferInline(Socket socket) => _preferInline?.Invoke(socket, true);

    private static Action<Socket, bool>? FindSetter()
    {
        // Windows completes on I/O completion port threads; the switch only means something on the epoll/kqueue engine.
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var setter = typeof(Socket).GetProperty("PreferInlineCompletions", BindingFlags.Instance | BindingFlags.NonPublic)?.SetMethod;
        return setter is { ReturnType: var type } && type == typeof(void) && setter.GetParameters() is [{ ParameterType: var p }] && p == typeof(bool)
            ? setter.CreateDelegate<Action<Socket, bool>>()
            : null;
    }
}
