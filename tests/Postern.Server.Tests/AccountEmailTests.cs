using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using MimeKit;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The account e-mails end to end, on whichever store <see cref="TestStore"/> gives: a real server asked for a password
/// reset or a sign-up sends through a real SMTP server (<see cref="SmtpTestServer"/>), and the link in the message that
/// arrives is followed as a user would, on Postern's own pages or through the frontend's JSON endpoints.
/// </summary>
public sealed partial class AccountEmailTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string NewPassword = "Remembered-0nce";

    private SmtpTestServer _smtp = null!;

    public async Task InitializeAsync() => _smtp = await SmtpTestServer.StartAsync();

    public async Task DisposeAsync() => await _smtp.DisposeAsync();

    private Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Postern:Email:SmtpUrl"] = _smtp.Url,
            ["Postern:Email:From"] = "Postern <noreply@postern.test>",
            ["Postern:Email:RetryDelaySeconds"] = "0.2",
            ["Postern:Email:MaxRetryDelaySeconds"] = "0.4",
            ["Postern:Email:PollIntervalSeconds"] = "0.2",
            ["Postern:Email:MaxAttempts"] = "1000",
        };
        foreach (var (key, value) in extra)
            settings[key] = value;
        return settings;
    }

    private static StringContent Json(object body) => RawHttp.Json(JsonSerializer.Serialize(body));

    private static string To(MimeMessage message) => string.Join(", ", message.To.Mailboxes.Select(m => m.Address));

    /// <summary>The one link of a message's plain-text body.</summary>
    private static string LinkIn(MimeMessage message) => Assert.Single(Link().Matches(message.TextBody ?? "")).Value;

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex Link();

    [GeneratedRegex("name=\"csrfmiddlewaretoken\" value=\"([^\"]+)\"")]
    private static partial Regex FormToken();

    private static async Task<RawResponse> RequestResetAsync(PosternTestServer server, string email)
    {
        var visitor = new Visitor(server.CreateRawClient());
        await visitor.GetAsync(EndpointPaths.Csrf);
        return await visitor.PostWithTokenAsync(EndpointPaths.PasswordReset, Json(new { email }));
    }

    private static async Task AssertPasswordIsAsync(PosternTestServer server, string username, string password)
    {
        Assert.Equal(HttpStatusCode.OK, (await new Visitor(server.CreateRawClient()).LoginAsync(username, password)).Status);
    }

    [Fact]
    public async Task AResetLinkArrivesAndItsPageSetsTheNewPasswordOnce()
    {
        await using var server = await PosternTestServer.StartAsync(Settings());
        await server.CreateUserAsync("alice", "alice-password", email: "alice@example.org");
        var signedIn = new Visitor(server.CreateRawClient());
        await signedIn.LoginAsync("alice", "alice-password");

        var asked = await RequestResetAsync(server, "ALICE@example.org");
        Assert.Equal(HttpStatusCode.OK, asked.Status);
        Assert.Equal("""{"detail":"Password reset e-mail has been sent."}""", asked.Body);

        var message = await _smtp.WaitForMessageAsync(m => To(m) == "alice@example.org", Patience);
        var link = new Uri(LinkIn(message));
        Assert.Equal(server.BaseAddress.Authority, link.Authority);
        Assert.StartsWith("/auth/password/reset/confirm/", link.AbsolutePath, StringComparison.Ordinal);
        Assert.Contains("alice", message.TextBody, StringComparison.Ordinal);

        // The user follows the link: the page shows the form, with the form's CSRF token and the cookie it belongs to.
        var browser = new Visitor(server.CreateRawClient());
        var page = await browser.GetAsync(link.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Equal("no-referrer", page.Header("Referrer-Policy"));
        var token = FormToken().Match(page.Body).Groups[1].Value;
        Assert.NotEmpty(token);

        var mismatch = await browser.SendAsync(HttpMethod.Post, link.PathAndQuery, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["csrfmiddlewaretoken"] = token,
            ["new_password1"] = NewPassword,
            ["new_password2"] = "something else",
        }));
        Assert.Contains("The two password fields didn’t match.", WebUtility.HtmlDecode(mismatch.Body), StringComparison.Ordinal);
        var set = await browser.SendAsync(HttpMethod.Post, link.PathAndQuery, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["csrfmiddlewaretoken"] = token,
            ["new_password1"] = NewPassword,
            ["new_password2"] = NewPassword,
        }));
        Assert.Equal(HttpStatusCode.OK, set.Status);
        Assert.Contains("Your password has been set.", set.Body, StringComparison.Ordinal);

        await AssertPasswordIsAsync(server, "alice", NewPassword);
        Assert.Equal(HttpStatusCode.Forbidden, (await signedIn.GetAsync(EndpointPaths.User)).Status);
        // Spent: the password it was made for is gone.
        Assert.Contains("The password reset link was invalid", (await browser.GetAsync(link.PathAndQuery)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithAFrontendUrlTheLinkOpensTheFrontendWhichConfirmsThroughTheJsonEndpoint()
    {
        await using var server = await PosternTestServer.StartAsync(Settings(
            ("Postern:Frontend:PasswordResetUrl", "https://app.example.com/reset/{uid}/{token}?from=mail")));
        await server.CreateUserAsync("bob", "bob-password", email: "bob@example.org");

        await RequestResetAsync(server, "bob@example.org");
        var link = LinkIn(await _smtp.WaitForMessageAsync(m => To(m) == "bob@example.org", Patience));
        var match = Regex.Match(link, @"^https://app\.example\.com/reset/([A-Za-z0-9_-]+)/([0-9a-z]+-[0-9a-f]+)\?from=mail$");
        Assert.True(match.Success, link);

        var frontend = new Visitor(server.CreateRawClient());
        await frontend.GetAsync(EndpointPaths.Csrf);
        var confirmed = await frontend.PostWithTokenAsync(EndpointPaths.PasswordResetConfirm, Json(new
        {
            uid = match.Groups[1].Value,
            token = match.Groups[2].Value,
            new_password1 = NewPassword,
            new_password2 = NewPassword,
        }));
        Assert.Equal(HttpStatusCode.OK, confirmed.Status);
        Assert.Equal("""{"detail":"Password has been reset with the new password."}""", confirmed.Body);
        await AssertPasswordIsAsync(server, "bob", NewPassword);
    }

    [Fact]
    public async Task AnUnknownAddressGetsTheSameAnswerAndNoEmail()
    {
        await using var server = await PosternTestServer.StartAsync(Settings());
        await server.CreateUserAsync("carol", "carol-password", email: "carol@example.org");
        var unknown = await RequestResetAsync(server, "nobody@example.org");
        var known = await RequestResetAsync(server, "carol@example.org");
        Assert.Equal((unknown.Status, unknown.Body), (known.Status, known.Body));
        await _smtp.WaitForMessageAsync(m => To(m) == "carol@example.org", Patience);
        await Task.Delay(500);
        Assert.DoesNotContain(_smtp.Messages, m => To(m) == "nobody@example.org");
    }

    [Fact]
    public async Task AResetAskedForWhileTheSmtpServerIsDownArrivesWhenItIsBackAndStillWorks()
    {
        await using var server = await PosternTestServer.StartAsync(Settings());
        await server.CreateUserAsync("dave", "dave-password", email: "dave@example.org");
        await _smtp.StopAsync();

        // The request does not wait for the mail server, nor fail because of it.
        var asked = await RequestResetAsync(server, "dave@example.org");
        Assert.Equal(HttpStatusCode.OK, asked.Status);
        await Task.Delay(1000);
        Assert.Empty(_smtp.Messages);

        await _smtp.StartAgainAsync();
        var link = new Uri(LinkIn(await _smtp.WaitForMessageAsync(m => To(m) == "dave@example.org", Patience)));
        var browser = new Visitor(server.CreateRawClient());
        var token = FormToken().Match((await browser.GetAsync(link.PathAndQuery)).Body).Groups[1].Value;
        var set = await browser.SendAsync(HttpMethod.Post, link.PathAndQuery, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["csrfmiddlewaretoken"] = token,
            ["new_password1"] = NewPassword,
            ["new_password2"] = NewPassword,
        }));
        Assert.Contains("Your password has been set.", set.Body, StringComparison.Ordinal);
        await AssertPasswordIsAsync(server, "dave", NewPassword);
    }

    [Fact]
    public async Task TwoInstancesOnOneDatabaseSendOneEmailPerRequest()
    {
        await using var first = await PosternTestServer.StartAsync(Settings());
        await using var second = await PosternTestServer.StartAsync(Settings(), databasePath: first.DatabasePath);
        await first.CreateUserAsync("erin", "erin-password", email: "erin@example.org");

        await RequestResetAsync(second, "erin@example.org");
        await RequestResetAsync(first, "erin@example.org");
        var messages = await _smtp.WaitForMessagesAsync(2, Patience);
        Assert.All(messages, m => Assert.Equal("erin@example.org", To(m)));
        await Task.Delay(1500);
        Assert.Equal(2, _smtp.Messages.Count);
        // Either instance accepts the link the other made: they share the secret key.
        var link = new Uri(LinkIn(messages[0]));
        Assert.Contains("id=\"password-form\"", (await new Visitor(first.CreateRawClient()).GetAsync(link.PathAndQuery)).Body,
            StringComparison.Ordinal);
        Assert.Contains("id=\"password-form\"", (await new Visitor(second.CreateRawClient()).GetAsync(link.PathAndQuery)).Body,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASignUpGetsAVerificationLinkWhosePageConfirmsTheAddressOnlyWhenPosted()
    {
        await using var server = await PosternTestServer.StartAsync(Settings(
            ("Postern:Accounts:SignupEnabled", "true"), ("Postern:Accounts:EmailVerification", "mandatory")));
        var visitor = new Visitor(server.CreateRawClient());
        await visitor.GetAsync(EndpointPaths.Csrf);
        var signup = await visitor.PostWithTokenAsync(EndpointPaths.Signup, Json(new
        {
            username = "frank",
            email = "frank@example.org",
            password1 = NewPassword,
            password2 = NewPassword,
        }));
        Assert.Equal(HttpStatusCode.Created, signup.Status);
        Assert.False(signup.Json().GetProperty("email_verified").GetBoolean());
        Assert.Equal(HttpStatusCode.Forbidden, (await new Visitor(server.CreateRawClient()).LoginAsync("frank", NewPassword)).Status);

        var message = await _smtp.WaitForMessageAsync(m => To(m) == "frank@example.org", Patience);
        var link = new Uri(LinkIn(message));
        Assert.StartsWith("/auth/email/verify/", link.AbsolutePath, StringComparison.Ordinal);

        // Opening the link (as a mail scanner does) changes nothing; the button does.
        var browser = new Visitor(server.CreateRawClient());
        var page = await browser.GetAsync(link.PathAndQuery);
        Assert.Contains("id=\"confirm\"", page.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await new Visitor(server.CreateRawClient()).LoginAsync("frank", NewPassword)).Status);
        var confirmed = await browser.SendAsync(HttpMethod.Post, link.PathAndQuery, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["csrfmiddlewaretoken"] = FormToken().Match(page.Body).Groups[1].Value,
        }));
        Assert.Contains("E-mail address verified.", confirmed.Body, StringComparison.Ordinal);

        var frank = new Visitor(server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await frank.LoginAsync("frank", NewPassword)).Status);
        Assert.True((await frank.GetAsync(EndpointPaths.User)).Json().GetProperty("email_verified").GetBoolean());

        // Resending to a verified address sends nothing; the answer is the same.
        var before = _smtp.Messages.Count;
        await visitor.GetAsync(EndpointPaths.Csrf);
        var resent = await visitor.PostWithTokenAsync(EndpointPaths.EmailVerifyResend, Json(new { email = "frank@example.org" }));
        Assert.Equal(HttpStatusCode.OK, resent.Status);
        await Task.Delay(1000);
        Assert.Equal(before, _smtp.Messages.Count);
    }
}
