namespace EchoHost.Harness;

/// <summary>What a program run to completion said and how it ended.</summary>
public sealed record ProcessResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError);
