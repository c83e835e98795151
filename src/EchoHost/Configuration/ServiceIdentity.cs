namespace EchoHost.Configuration;

/// <summary>
/// Who is answering, for banners and <c>GET /</c>: the machine name, and the pod, namespace and node that the
/// Kubernetes manifests pass in through the Downward API (<c>POD_NAME</c>, <c>POD_NAMESPACE</c>, <c>NODE_NAME</c>).
/// </summary>
internal static class ServiceIdentity
{
    public const string PodVariable = "POD_NAME";
    public const string NamespaceVariable = "POD_NAMESPACE";
    public const string NodeVariable = "NODE_NAME";

    /// <summary>What a placeholder becomes when its variable is unset or empty.</summary>
    public const string Unknown = "-";

    public static string Host => Environment.MachineName;

    public static string Pod => Read(PodVariable);

    public static string Namespace => Read(NamespaceVariable);

    public static string Node => Read(NodeVariable);

    private static string Read(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : Unknown;
}
