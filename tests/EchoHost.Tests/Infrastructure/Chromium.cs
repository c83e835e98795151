using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Chromium;
using OpenQA.Selenium.Support.UI;

namespace EchoHost.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium, headless, driven through Debian's chromedriver with Selenium WebDriver: one browser with a fresh
/// profile per test. Both programs are named by path, so Selenium Manager (which would look for or download a browser
/// and a driver) never runs; it is also pointed at a file that does not exist, so a Selenium change that would run it
/// anyway fails the test instead of reaching the network. The browser's own traffic goes to a dead proxy: only
/// loopback (the host under test) answers, so a page that needs the internet fails here as it would offline.
/// Tests that use it are <see cref="BrowserFactAttribute"/>s.
/// </summary>
internal sealed class Chromium : IDisposable
{
    public const string BrowserPath = "/usr/bin/chromium";

    public const string DriverPath = "/usr/bin/chromedriver";

    /// <summary>Where <see cref="SaveScreenshot"/> writes (CI's test results folder, which git ignores).</summary>
    public static string ScreenshotFolder => Repository.Path("tests/EchoHost.Tests/TestResults/screenshots");

    private readonly ChromeDriverService _service;
    private readonly string _profile;

    private Chromium(ChromeDriverService service, ChromeDriver driver, string profile)
    {
        _service = service;
        Driver = driver;
        _profile = profile;
    }

    public ChromeDriver Driver { get; }

    /// <summary>Why the browser tests cannot run here (with the install command), or null.</summary>
    public static string? WhyMissing() =>
        File.Exists(BrowserPath) && File.Exists(DriverPath)
            ? null
            : $"{BrowserPath} or {DriverPath} is missing; install them: apt-get install chromium chromium-driver";

    /// <summary>
    /// Starts a headless browser with an empty profile and a window of the given size (CSS pixels). With
    /// <paramref name="phone"/>, the page sees a touch screen of that size (Chromium's device emulation), as on a phone:
    /// a desktop window is never narrower than 500 pixels.
    /// </summary>
    public static Chromium Start(int width = 1280, int height = 900, bool phone = false)
    {
        // Selenium reads this only when it would run Selenium Manager: a path that does not exist makes that an error.
        Environment.SetEnvironmentVariable("SE_MANAGER_PATH", "/nonexistent/selenium-manager-must-not-run");
        var profile = Directory.CreateTempSubdirectory("echohost-chromium-").FullName;
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments(
            "--headless=new",
            $"--user-data-dir={profile}",
            $"--window-size={width},{height}",
            // Containers give /dev/shm 64 MB, too little for Chromium's shared memory.
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            // Port 9 (discard) is closed: anything that is not loopback (which Chromium never proxies) fails to load.
            "--proxy-server=http://127.0.0.1:9");
        if (phone)
        {
            options.EnableMobileEmulation(new ChromiumMobileEmulationDeviceSettings
            {
                Width = width, Height = height, PixelRatio = 1, EnableTouchEvents = true,
                UserAgent = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome Mobile Safari/537.36",
            });
        }

        options.SetLoggingPreference(LogType.Browser, OpenQA.Selenium.LogLevel.All);
        if (Environment.UserName == "root")
        {
            // Chromium refuses to start as root with its sandbox (CI containers run as root); the page it opens is ours.
            options.AddArgument("--no-sandbox");
        }

        try
        {
            var driver = new ChromeDriver(service, options, TestTimeouts.Long);
            driver.Manage().Timeouts().PageLoad = TestTimeouts.Default;
            return new Chromium(service, driver, profile);
        }
        catch
        {
            service.Dispose();
            TryDelete(profile);
            throw;
        }
    }

    /// <summary>A wait on a DOM condition, polled until <paramref name="timeout"/> (by default <see cref="TestTimeouts.Default"/>).</summary>
    public WebDriverWait Wait(TimeSpan? timeout = null)
    {
        var wait = new WebDriverWait(Driver, timeout ?? TestTimeouts.Default);
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait;
    }

    /// <summary>Writes what the page shows now as <c>name.png</c> in <see cref="ScreenshotFolder"/>, and returns its path.</summary>
    public string SaveScreenshot(string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        var path = Path.Combine(ScreenshotFolder, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    /// <summary>The browser's console messages since the last call (errors such as a Content-Security-Policy refusal show here).</summary>
    public IReadOnlyList<string> ConsoleMessages() =>
        Driver.Manage().Logs.GetLog(LogType.Browser).Select(entry => $"{entry.Level}: {entry.Message}").ToList();

    public void Dispose()
    {
        try
        {
            Driver.Quit();
        }
        finally
        {
            Driver.Dispose();
            _service.Dispose();
            TryDelete(_profile);
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Chromium's last child processes may still hold files for a moment; a temp folder left behind is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The version a program prints for <c>--version</c>, such as "Chromium 120.0.6099.224 built on Debian".</summary>
    public static string VersionOf(string program)
    {
        var info = new ProcessStartInfo(program, "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output.Trim();
    }
}

/// <summary>A fact that runs only where Debian's Chromium and chromedriver are installed, and is skipped with the install command otherwise.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute() => Skip = Chromium.WhyMissing();
}
