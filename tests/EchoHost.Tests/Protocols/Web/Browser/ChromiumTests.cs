using System.Net;
using EchoHost.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using OpenQA.Selenium;

namespace EchoHost.Tests.Protocols.Web.Browser;

/// <summary>
/// The browser the page tests drive: Debian's Chromium through Debian's chromedriver (never a downloaded one), which
/// loads pages from loopback and nothing from anywhere else, and saves screenshots where CI keeps test artifacts.
/// </summary>
public sealed class ChromiumTests
{
    [BrowserFact]
    public async Task Debian_chromium_loads_loopback_pages_only_and_saves_screenshots()
    {
        await using var app = await StartPageServerAsync("<!doctype html><title>t</title><p id=hello>hello from loopback</p>");
        using var chromium = Chromium.Start(width: 640, height: 480);

        // The session runs the Debian programs: their versions are the ones the files at those paths print.
        var capabilities = chromium.Driver.Capabilities;
        var browserVersion = (string)capabilities.GetCapability("browserVersion")!;
        Assert.Contains($" {browserVersion} ", Chromium.VersionOf(Chromium.BrowserPath) + " ");
        var chrome = (IReadOnlyDictionary<string, object>)capabilities.GetCapability("chrome")!;
        var driverVersion = ((string)chrome["chromedriverVersion"]).Split(' ')[0];
        Assert.Contains($" {driverVersion} ", Chromium.VersionOf(Chromium.DriverPath) + " ");

        chromium.Driver.Navigate().GoToUrl(app.Url);
        var hello = chromium.Wait().Until(d => d.FindElement(By.Id("hello")));
        Assert.Equal("hello from loopback", hello.Text);
        Assert.Equal(640, chromium.Driver.ExecuteScript("return window.outerWidth") switch { long w => (int)w, var w => Convert.ToInt32(w) });

        // Anything not on loopback fails to load, as it would with no internet.
        var offline = Assert.ThrowsAny<WebDriverException>(() => chromium.Driver.Navigate().GoToUrl("http://example.com/"));
        Assert.Contains("ERR_PROXY_CONNECTION_FAILED", offline.Message);

        var path = chromium.SaveScreenshot(nameof(ChromiumTests));
        var png = await File.ReadAllBytesAsync(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }

    /// <summary>A Kestrel on 127.0.0.1 port 0 answering every request with <paramref name="html"/>.</summary>
    private static async Task<PageServer> StartPageServerAsync(string html)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            return context.Response.WriteAsync(html);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new PageServer(app, address + "/");
    }

    private sealed record PageServer(WebApplication App, string Url) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }
}
