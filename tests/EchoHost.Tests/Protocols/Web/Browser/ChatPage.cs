using EchoHost.Tests.Infrastructure;
using OpenQA.Selenium;

namespace EchoHost.Tests.Protocols.Web.Browser;

/// <summary>
/// The chat page as a person uses it, in a real <see cref="Chromium"/>: typing in its fields, reading what it shows.
/// Every wait is on the page's DOM (WebDriverWait), never on time.
/// </summary>
internal sealed class ChatPage(Chromium chromium, Uri page)
{
    public Chromium Chromium { get; } = chromium;

    public IWebDriver Driver => Chromium.Driver;

    /// <summary>Opens the page, types <paramref name="nick"/> and presses Enter; returns once the server put the user in a room.</summary>
    public void Join(string nick)
    {
        Driver.Navigate().GoToUrl(page);
        var field = Chromium.Wait().Until(d => d.FindElement(By.Id("nick")));
        field.Clear();
        field.SendKeys(nick + Keys.Enter);
        Chromium.Wait().Until(_ => Status.StartsWith($"Connected as {nick} in ", StringComparison.Ordinal));
    }

    /// <summary>Types a line in the message field and presses Enter, as a person does.</summary>
    public void Say(string line) => Driver.FindElement(By.Id("say")).SendKeys(line + Keys.Enter);

    public string Status => Text("#status").Single();

    public string Room => Text("#room-name").Single();

    /// <summary>The lines of the message log, as their text.</summary>
    public IReadOnlyList<string> Log => Text("#log li");

    /// <summary>The names list, as shown (the user's own entry ends with " (you)").</summary>
    public IReadOnlyList<string> Names => Text("#names li");

    /// <summary>The room list, as shown: "lobby (2)".</summary>
    public IReadOnlyList<string> Rooms => Text("#rooms li");

    /// <summary>Waits until the log has a line equal to <paramref name="line"/>.</summary>
    public void WaitForLine(string line) =>
        Until(() => Log.Contains(line), () => $"the line '{line}' in the log; it has:\n{string.Join('\n', Log.TakeLast(15))}");

    public void WaitForNames(Func<IReadOnlyList<string>, bool> condition, string what) =>
        Until(() => condition(Names), () => $"names {what}; they are: {string.Join(", ", Names)}");

    public void Until(Func<bool> condition, Func<string> what)
    {
        try
        {
            Chromium.Wait().Until(_ => condition());
        }
        catch (WebDriverTimeoutException)
        {
            Chromium.SaveScreenshot("failed-" + Guid.NewGuid().ToString("N")[..8]);
            Assert.Fail($"The page never showed {what()}");
        }
    }

    /// <summary>The textContent of every element matching <paramref name="selector"/> (folded panels included), in one round trip.</summary>
    public IReadOnlyList<string> Text(string selector) =>
        ((IEnumerable<object>)((IJavaScriptExecutor)Driver).ExecuteScript(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)", selector)!)
        .Cast<string>().ToList();

    /// <summary>Runs <paramref name="script"/> in the page and returns its value.</summary>
    public object? Script(string script, params object[] arguments) => ((IJavaScriptExecutor)Driver).ExecuteScript(script, arguments);
}
