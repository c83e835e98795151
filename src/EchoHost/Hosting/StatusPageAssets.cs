namespace EchoHost.Hosting;

/// <summary>The operator's page's HTML template, stylesheet and script: files of Hosting/StatusPage/, embedded in the binary.</summary>
internal static class StatusPageAssets
{
    public static string Template { get; } = Text("status.html");

    public static byte[] Css { get; } = Bytes("status.css");

    public static byte[] Script { get; } = Bytes("status.js");

    private static string Text(string name) => System.Text.Encoding.UTF8.GetString(Bytes(name));

    private static byte[] Bytes(string name)
    {
        var resource = $"EchoHost.Hosting.StatusPage.{name}";
        using var stream = typeof(StatusPageAssets).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The embedded resource {resource} is missing from the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
