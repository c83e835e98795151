namespace EchoHost.Tests.Infrastructure;

/// <summary>Generous limits that only stop a broken test from hanging; no test asserts on elapsed time.</summary>
internal static class TestTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    public static CancellationToken Token(TimeSpan? timeout = null) => new CancellationTokenSource(timeout ?? Default).Token;
}
