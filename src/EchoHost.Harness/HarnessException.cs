namespace EchoHost.Harness;

/// <summary>A program the harness runs did not start, answer or finish as asked; the message says why, with the end of its output.</summary>
public sealed class HarnessException(string message) : Exception(message);
