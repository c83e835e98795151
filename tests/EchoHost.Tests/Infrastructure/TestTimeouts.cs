namespace EchoHost.Tests.Infrastructure;

/// <summary>Generous limits that only stop a broken test from hanging; no test asserts on elapsed time.</summary>
internal static class TestTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Waits on a child process (its start-up line, its exit, its connections closing): a .NET process starting or
    /// draining on a 2-core machine under full load (a parallel build, the rest of the suite) can take tens of seconds.
    /// </summary>
    public static readonly TimeSpan Process = TimeSpan.FromSeconds(120);

    public static CancellationToken Token(TimeSpan? timeout = null) => new CancellationTokenSource(timeout ?? Default).Token;
}
