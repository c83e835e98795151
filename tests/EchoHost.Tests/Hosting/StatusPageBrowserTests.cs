using EchoHost.Tests.Infrastructure;
using OpenQA.Selenium;

namespace EchoHost.Tests.Hosting;

/// <summary>
/// The operator's page in Debian's Chromium: the browser gets the HTML (not curl's line), the page lists every
/// listener (a Web listener too) and its counts move by themselves when clients connect, and it fits a phone.
/// </summary>
public sealed class StatusPageBrowserTests
{
    private static Dictionary<string, string?> Config() => new()
    {
        ["EchoHost:Listeners:Chat:Protocol"] = "Chat",
        ["EchoHost:Listeners:Chat:Port"] = "0",
        ["EchoHost:Listeners:Web:Protocol"] = "Web",
        ["EchoHost:Listeners:Web:Port"] = "0",
    };

    [BrowserFact]
    public async Task The_page_lists_the_listeners_and_its_counts_change_when_clients_connect()
    {
        await using var host = await TestHost.StartAsync(Config());
        using var chromium = Chromium.Start(width: 1280, height: 900);

        chromium.Driver.Navigate().GoToUrl(host.HttpBase);

        foreach (var (name, protocol) in new[] { ("Echo", "echo (tcp)"), ("Chat", "chat (tcp)"), ("Web", "web (tcp)") })
        {
            var row = chromium.Driver.FindElement(By.CssSelector($"tr[data-listener='{name}']"));
            Assert.Equal(name, row.FindElement(By.CssSelector("th")).Text);
            Assert.Equal(protocol, row.FindElement(By.CssSelector("td[data-label='Protocol']")).Text);
            Assert.Equal(host.EndPoint(name).ToString(), Cell(chromium, name, "address"));
            Assert.Equal("bound", Cell(chromium, name, "state"));
            Assert.Equal("0", Cell(chromium, name, "connections"));
        }

        // The script runs (the policy lets it) and polls.
        chromium.Wait().Until(d => d.FindElement(By.Id("updated")).Text.StartsWith("Updated ", StringComparison.Ordinal));
        var pause = chromium.Driver.FindElement(By.Id("pause"));
        Assert.True(pause.Displayed);
        Assert.Equal("false", pause.GetDomAttribute("aria-pressed"));

        // An echo client, a chat user and a connection to the Web listener: the page shows each without a reload.
        using var echo = await SocketExtensions.ConnectAsync(host.EndPoint());
        await echo.AssertEchoesAsync("status page\n");
        using var chat = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        using var web = await SocketExtensions.ConnectAsync(host.EndPoint("Web"));
        var before = chromium.Driver.FindElement(By.CssSelector("tr[data-listener='Echo']"));

        chromium.Wait().Until(_ => Cell(chromium, "Echo", "connections") == "1" && Cell(chromium, "Echo", "bytesIn") == "12"
            && Cell(chromium, "Chat", "chatUsers") == "1" && Cell(chromium, "Web", "connections") == "1");
        Assert.Equal("1", Cell(chromium, "Chat", "connections"));
        Assert.Equal("\u2014", Cell(chromium, "Echo", "chatUsers"));
        Assert.Equal(before, chromium.Driver.FindElement(By.CssSelector("tr[data-listener='Echo']"))); // updated in place, not reloaded
        chromium.SaveScreenshot("status-page");

        echo.Dispose();
        chromium.Wait().Until(_ => Cell(chromium, "Echo", "connections") == "0");
        Assert.DoesNotContain(chromium.ConsoleMessages(), m => m.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
    }

    [BrowserFact]
    public async Task On_a_phone_each_listener_is_a_card_no_wider_than_the_screen()
    {
        await using var host = await TestHost.StartAsync(Config());
        using var chromium = Chromium.Start(width: 390, height: 844);
        // A headless window is at least 500 pixels wide: emulate a phone's screen (390 CSS pixels, an iPhone 14's) instead.
        chromium.Driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
        {
            ["width"] = 390, ["height"] = 844, ["deviceScaleFactor"] = 2, ["mobile"] = true,
        });

        chromium.Driver.Navigate().GoToUrl(host.HttpBase);
        Assert.Equal(390L, Convert.ToInt64(chromium.Driver.ExecuteScript("return window.innerWidth"), System.Globalization.CultureInfo.InvariantCulture));
        chromium.Wait().Until(d => d.FindElement(By.Id("updated")).Text.StartsWith("Updated ", StringComparison.Ordinal));

        var overflow = chromium.Driver.ExecuteScript("return document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.Equal(0L, Convert.ToInt64(overflow, System.Globalization.CultureInfo.InvariantCulture));
        // Each count is labelled with its column's name (the table's header row is hidden on a narrow screen).
        var label = chromium.Driver.ExecuteScript(
            "return getComputedStyle(document.querySelector(\"tr[data-listener='Web'] td[data-field='connections']\"), '::before').content");
        Assert.Equal("\"Connections open\"", label);
        chromium.SaveScreenshot("status-page-phone");
    }

    private static string Cell(Chromium chromium, string listener, string field)
    {
        var cell = chromium.Driver.FindElement(By.CssSelector($"tr[data-listener='{listener}'] td[data-field='{field}']"));
        return field == "state" ? cell.FindElement(By.CssSelector(".state")).Text : cell.Text;
    }
}
