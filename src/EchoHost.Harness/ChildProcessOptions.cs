namespace EchoHost.Harness;

/// <summary>How to start a <see cref="ChildProcess"/>.</summary>
/// <param name="Name">What messages call it ("EchoHost", "baseline tcp").</param>
public sealed record ChildProcessOptions(string Name, string Program)
{
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Variables set for the child, after <see cref="ScrubbedPrefixes"/> and <see cref="ScrubbedVariables"/> are removed.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Inherited variables whose name starts with one of these (ignoring case) do not reach the child: a developer's own settings.</summary>
    public IReadOnlyList<string> ScrubbedPrefixes { get; init; } = [];

    /// <summary>Inherited variables of these names (ignoring case) do not reach the child.</summary>
    public IReadOnlyList<string> ScrubbedVariables { get; init; } = [];

    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// Where the child's stdout and stderr go. Null: captured in memory, line by line, for
    /// <see cref="ChildProcess.WaitForOutputAsync"/>. A path: the child writes the file itself (a shell <c>exec</c>s it
    /// with its output redirected, so the process id is the child's own and reading its output costs the child nothing).
    /// </summary>
    public string? LogFile { get; init; }

    /// <summary>How long disposing waits for the killed child to be gone.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(120);
}
