using EchoHost.Tests.Infrastructure;
using OpenQA.Selenium;

namespace EchoHost.Tests.Protocols.Web.Browser;

/// <summary>
/// The chat page in Debian's Chromium against the real host, with every other kind of user in the same rooms: a line
/// user (as nc is), an IRC client, another room's history. Screenshots of the page are saved as test artifacts in
/// <see cref="Chromium.ScreenshotFolder"/> (chat-page.png, chat-page-phone.png).
/// </summary>
public sealed class ChatPageTests
{
    private const string Markup = "<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\"><b>bold?</b>";

    [BrowserFact]
    public async Task A_browser_user_chats_with_line_and_irc_users_joins_a_room_and_sees_who_is_here()
    {
        await using var host = await WebHost.StartAsync();
        // Before the browser comes: lina says something in lobby, kurt leaves a message in the kitchen and stays there.
        using var lina = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        Assert.Equal("*** You are now known as lina", await lina.AskNickAsync("lina"));
        await lina.SendAsync("said before the browser came");
        using var kurt = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        Assert.Equal("*** You are now known as kurt", await kurt.AskNickAsync("kurt"));
        await kurt.SendAsync("/join kitchen");
        await kurt.ReadUntilAsync(l => l.StartsWith("*** You are now in kitchen", StringComparison.Ordinal));
        await kurt.SendAsync("soup at noon");
        await lina.SyncAsync();

        using var chromium = Chromium.Start();
        var page = new ChatPage(chromium, new Uri($"http://{host.EndPoint("Web")}/"));

        // Keyboard only: a nick and Enter; the message field has the focus once in.
        page.Join("bria");
        Assert.Equal("say", chromium.Driver.SwitchTo().ActiveElement().GetDomProperty("id"));
        Assert.Equal("lobby", page.Room);
        page.Until(() => page.Log.Any(l => l.EndsWith(" <lina> said before the browser came", StringComparison.Ordinal)), () => "lobby's history");
        page.WaitForNames(n => n.Order().SequenceEqual(["bria (you)", "lina"]), "bria (you) and lina");
        // The page comes in as a guest and asks for its nick at once, as a line user would.
        await lina.ReadUntilAsync(l => l.StartsWith("*** guest-", StringComparison.Ordinal) && l.EndsWith(" joined lobby", StringComparison.Ordinal));
        await lina.ReadUntilAsync(l => l.StartsWith("*** guest-", StringComparison.Ordinal) && l.EndsWith(" is now known as bria", StringComparison.Ordinal));

        // Both ways in lobby.
        page.Say("hello from the browser");
        await lina.ReadUntilAsync(l => l == "<bria> hello from the browser");
        await lina.SendAsync("hi bria");
        page.WaitForLine("<lina> hi bria");

        // Markup from another user is text: shown as typed, nothing parsed or run.
        await lina.SendAsync(Markup);
        page.WaitForLine($"<lina> {Markup}");
        Assert.Equal(0L, page.Script("return document.querySelectorAll('#log script, #log img, #log b').length"));
        Assert.Null(page.Script("return window.pwned ?? null"));

        // A third user, over IRC, arrives, changes nick and leaves: the names list follows.
        var (ivan, _) = await IrcTestClient.ConnectAsync(host.EndPoint("Irc"), "ivan");
        using (ivan)
        {
            page.WaitForNames(n => n.Contains("ivan"), "with ivan");
            page.WaitForLine("*** ivan joined lobby");
            await ivan.SendAsync("NICK ivan2");
            page.WaitForNames(n => n.Contains("ivan2") && !n.Contains("ivan"), "with ivan2 instead of ivan");
            await ivan.SendAsync("QUIT :bye");
            page.WaitForNames(n => !n.Contains("ivan2"), "without ivan2");
        }

        // The room list, and a /join typed in the message field: kitchen's history and who is there.
        page.Until(() => page.Rooms.SequenceEqual(["kitchen (1)", "lobby (2)"]), () => $"rooms kitchen (1), lobby (2): {string.Join(", ", page.Rooms)}");
        page.Say("/join kitchen");
        page.Until(() => page.Room == "kitchen", () => "room kitchen");
        page.Until(() => page.Log.Any(l => l.EndsWith(" <kurt> soup at noon", StringComparison.Ordinal)), () => "kitchen's history");
        page.WaitForNames(n => n.Order().SequenceEqual(["bria (you)", "kurt"]), "bria (you) and kurt");
        await kurt.ReadUntilAsync(l => l == "*** bria joined kitchen");
        await lina.ReadUntilAsync(l => l == "*** bria left lobby (joined kitchen)");
        await kurt.SendAsync("welcome to the kitchen");
        page.WaitForLine("<kurt> welcome to the kitchen");
        page.Until(() => page.Rooms.SequenceEqual(["kitchen (2)", "lobby (1)"]), () => $"rooms kitchen (2), lobby (1): {string.Join(", ", page.Rooms)}");

        chromium.SaveScreenshot("chat-page");

        // Back to lobby from the room list.
        chromium.Driver.FindElements(By.CssSelector("#rooms button")).Single(b => b.Text == "lobby (1)").Click();
        page.Until(() => page.Room == "lobby", () => "room lobby again");
        page.WaitForNames(n => n.Order().SequenceEqual(["bria (you)", "lina"]), "bria (you) and lina again");
        Assert.Equal("say", chromium.Driver.SwitchTo().ActiveElement().GetDomProperty("id"));
        Assert.Equal("lobby – EchoHost chat", chromium.Driver.Title);
        // Nothing refused by the Content-Security-Policy, no script error.
        Assert.DoesNotContain(chromium.ConsoleMessages(), m => m.StartsWith("Severe", StringComparison.OrdinalIgnoreCase));
    }

    [BrowserFact]
    public async Task On_a_phone_the_page_fits_the_screen_and_leaving_says_goodbye()
    {
        await using var host = await WebHost.StartAsync();
        using var lina = await ChatClient.ConnectAsync(host.EndPoint("Chat"));
        Assert.Equal("*** You are now known as lina", await lina.AskNickAsync("lina"));

        // A phone's screen in CSS pixels.
        using var chromium = Chromium.Start(width: 390, height: 844, phone: true);
        var page = new ChatPage(chromium, new Uri($"http://{host.EndPoint("Web")}/"));
        page.Join("pia");
        await lina.SendAsync("a long line from lina that has to wrap on a narrow screen rather than push the page sideways: " +
            "supercalifragilisticexpialidocious-and-then-some-more-without-any-space-at-all");
        page.Until(() => page.Log.Any(l => l.StartsWith("<lina> a long line", StringComparison.Ordinal)), () => "lina's long line");

        Assert.Equal(390L, page.Script("return innerWidth"));
        Assert.Equal(true, page.Script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth"));
        // The message field and its button are on the screen, not below it.
        Assert.Equal(true, page.Script("const r = document.getElementById('say-form').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight && r.right <= innerWidth"));
        chromium.SaveScreenshot("chat-page-phone");
        // Every field has a label and every button a name, for screen readers.
        Assert.Equal(0L, page.Script(
            "return [...document.querySelectorAll('input, button')].filter(e => !(e.labels?.length || e.textContent.trim() || e.getAttribute('aria-label'))).length"));

        chromium.Driver.FindElement(By.Id("leave")).Click();
        page.WaitForLine("*** Goodbye, pia!");
        await lina.ReadUntilAsync(l => l == "*** pia left lobby (quit)");
        page.Until(() => chromium.Driver.FindElement(By.Id("ended")).Displayed, () => "the disconnected notice");
        Assert.Equal("reconnect", chromium.Driver.SwitchTo().ActiveElement().GetDomProperty("id"));
        Assert.StartsWith("Disconnected: ", page.Text("#ended-text").Single());
    }
}
