using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using EchoHost.Protocols.Web;
using EchoHost.Tests.Infrastructure;

namespace EchoHost.Tests.Protocols.Web;

/// <summary>
/// The chat page over real HTTP from a Web listener: its files come from the binary with their content types, a strict
/// same-origin Content-Security-Policy and revalidation by ETag; it loads nothing from elsewhere; unknown paths and
/// methods get a one-line answer. (The browser itself drives the page in Browser/ChatPageTests.)
/// </summary>
public sealed partial class WebPageTests
{
    [Fact]
    public async Task The_page_and_its_assets_are_served_from_the_binary_with_their_types_and_a_strict_policy()
    {
        await using var host = await WebHost.StartAsync();
        using var http = Client(host);

        using var page = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html; charset=utf-8", page.Content.Headers.ContentType!.ToString());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<title>EchoHost chat</title>", html);

        // Every file the page names is relative (this origin) and served with its own type and the same headers.
        var assets = AssetReference().Matches(html).Select(m => m.Groups["url"].Value).ToList();
        Assert.Equal(["favicon.svg", "chat.css", "chat.js"], assets);
        var types = new Dictionary<string, string>
        {
            ["favicon.svg"] = "image/svg+xml", ["chat.css"] = "text/css; charset=utf-8", ["chat.js"] = "text/javascript; charset=utf-8",
        };
        foreach (var response in new[] { page }.Concat(await Task.WhenAll(assets.Select(a => http.GetAsync(a)))))
        {
            var name = response.RequestMessage!.RequestUri!.AbsolutePath;
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {response.StatusCode}");
            if (name != "/")
            {
                Assert.Equal(types[name[1..]], response.Content.Headers.ContentType!.ToString());
            }

            Assert.Equal(WebPage.ContentSecurityPolicy, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
            Assert.Contains("default-src 'none'", WebPage.ContentSecurityPolicy);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
            Assert.True(response.Headers.CacheControl!.NoCache, name);
            Assert.NotNull(response.Headers.ETag);
            Assert.Equal(response.Content.Headers.ContentLength, (await response.Content.ReadAsByteArrayAsync()).Length);
        }

        // Revalidation: the same ETag is a 304 with no body.
        using var again = new HttpRequestMessage(HttpMethod.Get, "chat.js");
        again.Headers.IfNoneMatch.Add((await http.GetAsync("chat.js")).Headers.ETag!);
        using var notModified = await http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        // HEAD: the headers of GET, no body.
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(html), head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Unknown_paths_and_methods_get_one_line_of_text()
    {
        await using var host = await WebHost.StartAsync();
        using var http = Client(host);

        using var missing = await http.GetAsync("/index.php?x=<b>");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("text/plain", missing.Content.Headers.ContentType!.MediaType);
        Assert.Equal("not found: /index.php; the chat page is at /, its WebSocket at /ws/chat\n", await missing.Content.ReadAsStringAsync());

        using var post = await http.PostAsync("/", new StringContent("x"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(["GET", "HEAD"], post.Content.Headers.Allow.Order());
        Assert.Equal("POST is not allowed on /: GET or HEAD\n", await post.Content.ReadAsStringAsync());
    }

    [Fact]
    public void The_page_files_load_nothing_from_elsewhere_and_never_turn_text_into_markup()
    {
        var folder = Repository.Path("src/EchoHost/Protocols/Web/Page");
        var files = Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllText);
        Assert.Equal(["chat.css", "chat.js", "favicon.svg", "index.html"], files.Keys.Order());
        foreach (var (name, text) in files)
        {
            // No CDN, no web font, no analytics: the page works with no internet (the SVG's xmlns is a name, not a fetch).
            var urls = Regex.Matches(text, @"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", RegexOptions.IgnoreCase).Select(m => m.Value)
                .Where(u => u != "http://www.w3.org").ToList();
            Assert.True(urls.Count == 0, $"{name} names {string.Join(", ", urls)}");
        }

        // The policy allows no inline code: no script without src, no style element or attribute, no on… handler.
        var html = files["index.html"];
        Assert.DoesNotMatch(@"<script(?![^>]*\ssrc=)", html);
        Assert.DoesNotMatch(@"<style|\sstyle=|\son[a-z]+=", html);
        // Text from the chat is only ever text (the browser test sends markup and checks that it shows as typed).
        Assert.DoesNotMatch(@"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", files["chat.js"]);
    }

    private static HttpClient Client(TestHost host) =>
        new() { BaseAddress = new Uri($"http://{host.EndPoint("Web")}/"), Timeout = TestTimeouts.Default };

    [GeneratedRegex(@"(?:href|src)=""(?<url>[^""]+)""")]
    private static partial Regex AssetReference();
}
