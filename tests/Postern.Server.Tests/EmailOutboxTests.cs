using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using Postern.Server.Email;
using Postern.Server.Hosting;
using Postern.Server.Storage;
using Postern.Server.Tests.Support;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// E-mail through the outbox, end to end, on whichever store <see cref="TestStore"/> gives: real Postern servers hand e-mails to
/// their <see cref="EmailOutbox"/> (resolved from their services, as the account flows will), and a real SMTP server
/// (<see cref="SmtpTestServer"/>) receives them: headers, both bodies and the link; an outage of the SMTP server, a restart
/// of Postern, an instance killed in the middle of a send, two instances on one database; and without an SMTP server,
/// the log.
/// </summary>
public sealed class EmailOutboxTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string ResetUrl = "https://app.example.com/reset/MQ/cz1n7b-0a1b2c3d?next=/home&lang=en";

    private readonly string _folder = Directory.CreateTempSubdirectory("postern-email-").FullName;
    private SmtpTestServer _smtp = null!;

    public async Task InitializeAsync() => _smtp = await SmtpTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _smtp.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Settings for a test server that sends to <paramref name="smtpUrl"/> and retries within a fraction of a second.</summary>
    private static Dictionary<string, string?> EmailSettings(string? smtpUrl, double retrySeconds = 0.2, double pollSeconds = 0.2)
    {
        string Seconds(double seconds) => seconds.ToString(CultureInfo.InvariantCulture);
        return new()
        {
            ["Postern:Email:SmtpUrl"] = smtpUrl,
            ["Postern:Email:From"] = "Postern <noreply@postern.test>",
            ["Postern:Email:RetryDelaySeconds"] = Seconds(retrySeconds),
            ["Postern:Email:MaxRetryDelaySeconds"] = Seconds(retrySeconds * 2),
            ["Postern:Email:PollIntervalSeconds"] = Seconds(pollSeconds),
            ["Postern:Email:SmtpTimeoutSeconds"] = "10",
            ["Postern:Email:ClaimLeaseSeconds"] = "20",
            ["Postern:Email:MaxAttempts"] = "1000",
        };
    }

    private static Dictionary<string, string> ResetValues(string username, string url = ResetUrl) => new()
    {
        ["username"] = username,
        ["reset_url"] = url,
        ["site_name"] = "example.com",
    };

    private static EmailOutbox OutboxOf(PosternTestServer server) => server.Services.GetRequiredService<EmailOutbox>();

    private static Task<long> CountAsync(string database, string where = "1 = 1") =>
        TestStore.QueryInt64Async(database, $"SELECT COUNT(*) FROM email_outbox WHERE {where};");

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Not within {Patience}: {what}.");
            await Task.Delay(50);
        }
    }

    private static Task WaitUntilOutboxEmptyAsync(string database) =>
        WaitUntilAsync(async () => await CountAsync(database) == 0, "the outbox is empty");

    /// <summary>A text with \n line ends, whatever the wire had (CRLF).</summary>
    private static string Lines(string? text) => (text ?? "").ReplaceLineEndings("\n");

    private static string ToOf(MimeMessage message) => string.Join(", ", message.To.Mailboxes.Select(m => m.Address));

    [Fact]
    public async Task AnEnqueuedEmailArrivesAtOnceWithItsHeadersBothBodiesAndTheLink()
    {
        // Polling once a minute: the e-mail arrives within seconds only if enqueuing wakes the worker.
        await using var server = await PosternTestServer.StartAsync(EmailSettings(_smtp.Url, pollSeconds: 60));
        var enqueuedAt = DateTimeOffset.UtcNow;

        await OutboxOf(server).EnqueueAsync(EmailTemplate.PasswordReset, "alice@example.com", ResetValues("alice<b>&co"));

        var message = await _smtp.WaitForMessageAsync(null, TimeSpan.FromSeconds(10));
        var from = Assert.Single(message.From.Mailboxes);
        Assert.Equal(("Postern", "noreply@postern.test"), (from.Name, from.Address));
        Assert.Equal("alice@example.com", Assert.Single(message.To.Mailboxes).Address);
        Assert.Equal("alice@example.com", message.Headers["X-Capture-Rcpt-To"]);
        Assert.Equal("noreply@postern.test", message.Headers["X-Capture-Mail-From"]);
        Assert.Equal("Password reset on example.com", message.Subject);
        Assert.EndsWith("@postern.test", message.MessageId, StringComparison.Ordinal);
        Assert.InRange(message.Date, enqueuedAt.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));

        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal(["text/plain", "text/html"], alternative.Select(part => part.ContentType.MimeType));
        Assert.Contains("a password reset for your user account at example.com.", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("\n" + ResetUrl + "\n", Lines(message.TextBody), StringComparison.Ordinal);
        Assert.Contains("In case you’ve forgotten, you are: alice<b>&co", message.TextBody, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"{ResetUrl.Replace("&", "&amp;", StringComparison.Ordinal)}\">", message.HtmlBody,
            StringComparison.Ordinal);
        Assert.Contains("you are: alice&lt;b&gt;&amp;co", message.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("alice<b>", message.HtmlBody, StringComparison.Ordinal);

        await WaitUntilOutboxEmptyAsync(server.DatabasePath);
        Assert.Single(_smtp.Messages);
    }

    [Fact]
    public async Task TheVerificationEmailCarriesItsLinkAndAddress()
    {
        await using var server = await PosternTestServer.StartAsync(EmailSettings(_smtp.Url));
        const string verifyUrl = "https://app.example.com/verify/MTox:1u2v3w:abc";

        await OutboxOf(server).EnqueueAsync(EmailTemplate.EmailVerification, "bob@example.com", new Dictionary<string, string>
        {
            ["username"] = "bob",
            ["verify_url"] = verifyUrl,
            ["site_name"] = "example.com",
        });

        var message = await _smtp.WaitForMessageAsync(m => ToOf(m) == "bob@example.com", Patience);
        Assert.Equal("[example.com] Please Confirm Your Email Address", message.Subject);
        Assert.Contains("user bob has given your email address (bob@example.com)", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("go to " + verifyUrl, message.TextBody, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"{verifyUrl}\">", message.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmailEnqueuedWhileTheSmtpServerIsDownArrivesOnceItIsBack()
    {
        await _smtp.StopAsync();
        await using var server = await PosternTestServer.StartAsync(EmailSettings(_smtp.Url));

        await OutboxOf(server).EnqueueAsync(EmailTemplate.PasswordReset, "carol@example.com", ResetValues("carol"));

        // Tried, refused, and kept for later.
        await WaitUntilAsync(async () => await CountAsync(server.DatabasePath, "attempts >= 2 AND last_error IS NOT NULL") == 1,
            "two failed attempts recorded");
        Assert.Equal(0, await CountAsync(server.DatabasePath, "failed_at IS NOT NULL"));

        await _smtp.StartAgainAsync();
        var message = await _smtp.WaitForMessageAsync(m => ToOf(m) == "carol@example.com", Patience);
        Assert.Contains(ResetUrl, message.TextBody, StringComparison.Ordinal);
        await WaitUntilOutboxEmptyAsync(server.DatabasePath);
        Assert.Single(_smtp.Messages);
    }

    [Fact]
    public async Task UnsentEmailsAreSentAfterARestart()
    {
        var database = await TestStore.NewDatabaseAsync(_folder);
        await _smtp.StopAsync();
        await using (var before = await PosternTestServer.StartAsync(EmailSettings(_smtp.Url, retrySeconds: 1), databasePath: database))
        {
            for (var i = 0; i < 3; i++)
                await OutboxOf(before).EnqueueAsync(EmailTemplate.PasswordReset, $"user{i}@example.com", ResetValues($"user{i}"));
            await WaitUntilAsync(async () => await CountAsync(database, "attempts >= 1") == 3, "each tried once");
        }
        // And one put in the outbox while no Postern runs, as another instance would.
        await using (var elsewhere = Database.Open(database))
        {
            await new EmailOutboxStore(elsewhere).AddAsync("noreply@postern.test",
                new OutgoingEmail("user3@example.com", "Enqueued elsewhere", "Hello"), "<elsewhere@postern.test>", DateTimeOffset.UtcNow);
        }
        await _smtp.StartAgainAsync();

        await using var after = await PosternTestServer.StartAsync(EmailSettings(_smtp.Url), databasePath: database);

        var messages = await _smtp.WaitForMessagesAsync(4, Patience);
        Assert.Equal(["user0@example.com", "user1@example.com", "user2@example.com", "user3@example.com"],
            messages.Select(ToOf).Order(StringComparer.Ordinal));
        Assert.Equal("<elsewhere@postern.test>", "<" + messages.Single(m => ToOf(m) == "user3@example.com").MessageId + ">");
        await WaitUntilOutboxEmptyAsync(database);
        Assert.Equal(4, _smtp.Messages.Count);
    }

    [Fact]
    public async Task TwoInstancesOnOneDatabaseSendEachEmailOnce()
    {
        const int count = 24;
        var database = await TestStore.NewDatabaseAsync(_folder);
        await using var first = await PosternTestServer.StartAsync(EmailSettings(_smtp.Url, pollSeconds: 0.05), databasePath: database);
        await using var second = await PosternTestServer.StartAsync(EmailSettings(_smtp.Url, pollSeconds: 0.05), databasePath: database);
        var instances = new[] { OutboxOf(first), OutboxOf(second) };
        Task<long> Enqueue(int i) => instances[i % 2].EnqueueAsync(
            new OutgoingEmail($"user{i}@example.com", $"Message {i}", $"Hello {i}", $"<p>Hello {i}</p>"));

        // Half while the SMTP server is down, so both instances retry them side by side once it is back; half at once.
        await _smtp.StopAsync();
        await Task.WhenAll(Enumerable.Range(0, count / 2).Select(Enqueue));
        await WaitUntilAsync(async () => await CountAsync(database, "attempts >= 1") == count / 2, "each tried once");
        await _smtp.StartAgainAsync();
        await Task.WhenAll(Enumerable.Range(count / 2, count / 2).Select(Enqueue));

        await _smtp.WaitForMessagesAsync(count, Patience);
        await WaitUntilOutboxEmptyAsync(database);
        await Task.Delay(TimeSpan.FromSeconds(1)); // time for a second copy of any, if one were coming
        var subjects = _smtp.Messages.Select(m => m.Subject).ToList();
        Assert.Equal(count, subjects.Count);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"Message {i}").Order(StringComparer.Ordinal),
            subjects.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AnEmailWhoseSenderDiedMidSendIsSentByAnotherInstanceOnceItsClaimRunsOut()
    {
        var database = await TestStore.NewDatabaseAsync(_folder);
        await using (var schema = Database.Open(database))
            await schema.MigrateAsync();
        _smtp.Stalling = true;
        var dying = await ServeProcess.StartAsync(_folder, database, environment: new Dictionary<string, string?>
        {
            ["Postern__Email__SmtpUrl"] = _smtp.Url,
            ["Postern__Email__PollIntervalSeconds"] = "0.1",
            ["Postern__Email__SmtpTimeoutSeconds"] = "8",
            ["Postern__Email__ClaimLeaseSeconds"] = "10",
        });
        DateTimeOffset killedAt;
        await using (dying)
        {
            await using (var elsewhere = Database.Open(database))
            {
                await new EmailOutboxStore(elsewhere).AddAsync("noreply@postern.test",
                    new OutgoingEmail("dana@example.com", "Sent twice?", "Hello"), "<once@postern.test>", DateTimeOffset.UtcNow);
            }
            await WaitUntilAsync(() => Task.FromResult(_smtp.StalledCount == 1), "the SMTP server hangs in its DATA");
            await dying.KillAsync();
            killedAt = DateTimeOffset.UtcNow;
        }
        _smtp.Stalling = false;
        Assert.Equal(1, await CountAsync(database, "attempts = 1"));

        await using var survivor = await PosternTestServer.StartAsync(EmailSettings(_smtp.Url), databasePath: database);

        var message = await _smtp.WaitForMessageAsync(null, TimeSpan.FromSeconds(60));
        Assert.Equal("dana@example.com", ToOf(message));
        // Not before the dead instance's claim ran out (it was made before the kill).
        Assert.True(DateTimeOffset.UtcNow >= killedAt.AddSeconds(5), "sent while the dead instance's claim still held");
        await WaitUntilOutboxEmptyAsync(database);
        Assert.Single(_smtp.Messages);
    }

    [Fact]
    public async Task AfterTheLastAttemptTheEmailStaysMarkedFailedAndTheLogSaysSoAtError()
    {
        await _smtp.StopAsync();
        var log = new CapturedLog();
        var settings = EmailSettings(_smtp.Url);
        settings["Postern:Email:MaxAttempts"] = "2";
        await using var server = await PosternTestServer.StartAsync(settings,
            services: services => services.AddSingleton<ILoggerProvider>(log));

        var id = await OutboxOf(server).EnqueueAsync(EmailTemplate.PasswordReset, "erin@example.com", ResetValues("erin"));

        await WaitUntilAsync(async () => await CountAsync(server.DatabasePath, "failed_at IS NOT NULL") == 1, "marked failed");
        Assert.Equal(1, await CountAsync(server.DatabasePath, "attempts = 2 AND last_error IS NOT NULL"));
        var error = await log.WaitForAsync(
            e => e.Level == LogLevel.Error && e.Category.StartsWith("Postern.Server.Email", StringComparison.Ordinal),
            Patience);
        Assert.Contains($"e-mail {id} to erin@example.com after 2 attempts", error.Message, StringComparison.Ordinal);

        // Given up is given up: the SMTP server's return changes nothing.
        await _smtp.StartAgainAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Empty(_smtp.Messages);
        Assert.Equal(1, await CountAsync(server.DatabasePath));
    }

    [Fact]
    public async Task ARecipientTheServerRefusesForGoodIsNotTriedAgain()
    {
        await using var server = await PosternTestServer.StartAsync(EmailSettings(_smtp.Url));

        await OutboxOf(server).EnqueueAsync(EmailTemplate.PasswordReset, "refused@example.com", ResetValues("frank"));
        await OutboxOf(server).EnqueueAsync(EmailTemplate.PasswordReset, "grace@example.com", ResetValues("grace"));

        await _smtp.WaitForMessageAsync(m => ToOf(m) == "grace@example.com", Patience);
        await WaitUntilAsync(async () => await CountAsync(server.DatabasePath, "failed_at IS NOT NULL AND attempts = 1") == 1,
            "the refused one marked failed after one attempt");
        var error = await TestStore.QueryTextsAsync(server.DatabasePath, "SELECT last_error FROM email_outbox;");
        Assert.Contains("550", Assert.Single(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheUrlsUserAndPasswordLogInURLDecodedAndThePasswordIsNeverLogged()
    {
        const string user = "postern@example.com", password = "p:ss/w%rd secret";
        await using var login = await SmtpTestServer.StartAsync(user, password);
        var log = new CapturedLog();
        var url = $"smtp://{Uri.EscapeDataString(user)}:{Uri.EscapeDataString(password)}@127.0.0.1:{login.Port}";
        var wrong = $"smtp://{Uri.EscapeDataString(user)}:not-{Uri.EscapeDataString(password)}@127.0.0.1:{login.Port}";
        var settings = EmailSettings(url);
        settings["Logging:LogLevel:Postern.Server.Email"] = "Information";
        var refusedSettings = EmailSettings(wrong);
        refusedSettings["Logging:LogLevel:Postern.Server.Email"] = "Information";
        var database = await TestStore.NewDatabaseAsync(_folder);
        await using (var refused = await PosternTestServer.StartAsync(refusedSettings, databasePath: database,
                         services: services => services.AddSingleton<ILoggerProvider>(log)))
        {
            await OutboxOf(refused).EnqueueAsync(EmailTemplate.PasswordReset, "leo@example.com", ResetValues("leo"));

            await WaitUntilAsync(async () => await CountAsync(database, "attempts >= 1 AND last_error IS NOT NULL") == 1,
                "a refused login recorded");
        }
        Assert.Empty(login.Messages);
        var error = Assert.Single(await TestStore.QueryTextsAsync(database, "SELECT last_error FROM email_outbox;"));
        Assert.Contains("Authentication", error, StringComparison.Ordinal);
        Assert.DoesNotContain("w%", error, StringComparison.Ordinal);

        await using var accepted = await PosternTestServer.StartAsync(settings, databasePath: database,
            services: services => services.AddSingleton<ILoggerProvider>(log));
        var message = await login.WaitForMessageAsync(null, Patience);
        Assert.Equal("leo@example.com", ToOf(message));
        var sent = await log.WaitForAsync(e => e.Message.StartsWith("Sent e-mail", StringComparison.Ordinal), Patience);
        Assert.Contains($"smtp://postern%40example.com:***@127.0.0.1:{login.Port}", sent.Message, StringComparison.Ordinal);
        Assert.All(log.Entries, e => Assert.DoesNotContain("w%rd", e.Message + e.Error, StringComparison.Ordinal));
        Assert.All(log.Entries, e => Assert.DoesNotContain("w%25rd", e.Message + e.Error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutAnSmtpUrlEmailsAreWrittenToTheLogWhole()
    {
        var log = new CapturedLog();
        var settings = EmailSettings(null);
        settings["Logging:LogLevel:Postern.Server.Email"] = "Information";
        await using var server = await PosternTestServer.StartAsync(settings,
            services: services => services.AddSingleton<ILoggerProvider>(log));
        var longUrl = "https://app.example.com/reset/" + new string('x', 120) + "/token";

        await OutboxOf(server).EnqueueAsync(EmailTemplate.PasswordReset, "heidi@example.com", ResetValues("heidi", longUrl));

        var entry = await log.WaitForAsync(e => e.Message.Contains("Subject: Password reset on example.com", StringComparison.Ordinal),
            Patience);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.StartsWith("Postern.Server.Email", entry.Category, StringComparison.Ordinal);
        Assert.Contains("To: heidi@example.com", entry.Message, StringComparison.Ordinal);
        Assert.Contains("From: Postern <noreply@postern.test>", entry.Message, StringComparison.Ordinal);
        Assert.Contains("Message-Id: <", entry.Message, StringComparison.Ordinal);
        Assert.Contains("\n" + longUrl + "\n", Lines(entry.Message), StringComparison.Ordinal); // whole, clickable
        Assert.Contains("In case you’ve forgotten, you are: heidi", entry.Message, StringComparison.Ordinal);
        Assert.Contains("text/html", entry.Message, StringComparison.Ordinal);
        await WaitUntilOutboxEmptyAsync(server.DatabasePath);
        Assert.Empty(_smtp.Messages);
    }

    [Fact]
    public async Task TemplatesInTheFolderReplaceTheBuiltInOnes()
    {
        var templates = Directory.CreateDirectory(Path.Combine(_folder, "templates")).FullName;
        await File.WriteAllTextAsync(Path.Combine(templates, "password-reset.subject.txt"), "Your {site_name}\npassword, {username}\n");
        await File.WriteAllTextAsync(Path.Combine(templates, "password-reset.txt"), "Hi {username}: {reset_url} ({unknown} stays)\n");
        await File.WriteAllTextAsync(Path.Combine(templates, "password-reset.html"),
            "<style>p { color: red }</style><p>Hi {username}: <a href=\"{reset_url}\">reset</a> for {email}</p>\n");
        var settings = EmailSettings(_smtp.Url);
        settings["Postern:Email:TemplatesPath"] = templates;
        await using var server = await PosternTestServer.StartAsync(settings);

        await OutboxOf(server).EnqueueAsync(EmailTemplate.PasswordReset, "ivan@example.com",
            ResetValues("ivan & co", "https://x.test/r?a=1&b=2"));
        await OutboxOf(server).EnqueueAsync(EmailTemplate.EmailVerification, "judy@example.com", new Dictionary<string, string>
        {
            ["username"] = "judy",
            ["verify_url"] = "https://x.test/v",
            ["site_name"] = "example.com",
        });

        var reset = await _smtp.WaitForMessageAsync(m => ToOf(m) == "ivan@example.com", Patience);
        Assert.Equal("Your example.compassword, ivan & co", reset.Subject);
        Assert.Equal("Hi ivan & co: https://x.test/r?a=1&b=2 ({unknown} stays)\n", Lines(reset.TextBody));
        Assert.Equal("<style>p { color: red }</style><p>Hi ivan &amp; co: <a href=\"https://x.test/r?a=1&amp;b=2\">reset</a> "
            + "for ivan@example.com</p>\n", Lines(reset.HtmlBody));
        // The other template, not in the folder, keeps its built-in wording.
        var verification = await _smtp.WaitForMessageAsync(m => ToOf(m) == "judy@example.com", Patience);
        Assert.Equal("[example.com] Please Confirm Your Email Address", verification.Subject);
    }

    [Fact]
    public async Task ASettingThatCannotWorkStopsTheServerAtStart()
    {
        var settings = EmailSettings("http://mail.example.com:25");
        settings["Postern:Email:From"] = "not an address";
        var database = await TestStore.NewDatabaseAsync(_folder);
        await using var app =
            await PosternApplication.BuildAsync(new HostSettings("http://127.0.0.1:0", database) { Overrides = settings });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Postern:Email:SmtpUrl: an SMTP URL looks like", error.Message, StringComparison.Ordinal);
        Assert.Contains("Postern:Email:From is not an e-mail address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnqueuingRefusesWhatCannotBeSent()
    {
        await using var server = await PosternTestServer.StartAsync(EmailSettings(_smtp.Url));
        var outbox = OutboxOf(server);

        await Assert.ThrowsAsync<ArgumentException>(() => outbox.EnqueueAsync(new OutgoingEmail("not an address", "s", "t")));
        await Assert.ThrowsAsync<ArgumentException>(() => outbox.EnqueueAsync(new OutgoingEmail("kim", "s", "t")));
        await Assert.ThrowsAsync<ArgumentException>(() => outbox.EnqueueAsync(new OutgoingEmail("a@example.com, b@example.com", "s", "t")));
        var missing = await Assert.ThrowsAsync<ArgumentException>(() => outbox.EnqueueAsync(EmailTemplate.PasswordReset,
            "kim@example.com", new Dictionary<string, string> { ["username"] = "kim" }));
        Assert.Contains("reset_url, site_name", missing.Message, StringComparison.Ordinal);
        // A line break in a subject would start a header of the sender's choosing: it becomes a space.
        await outbox.EnqueueAsync(new OutgoingEmail("kim@example.com", "Hello\r\nBcc: mallory@example.com", "t"));

        var message = await _smtp.WaitForMessageAsync(null, Patience);
        Assert.Equal("Hello Bcc: mallory@example.com", message.Subject);
        Assert.Empty(message.Bcc);
        Assert.Equal("kim@example.com", message.Headers["X-Capture-Rcpt-To"]);
    }
}

/// <summary>
/// <c>Postern:Email:SmtpUrl</c> as read: scheme, TLS, port, URL-decoded credentials, and a description without the password.
/// </summary>
public sealed class SmtpServerUrlTests
{
    [Theory]
    [InlineData("smtp://mail.example.com", "mail.example.com", 25, "StartTlsWhenAvailable", null, null, "smtp://mail.example.com:25")]
    [InlineData("smtp://u%40x.org:p%3Aw%2Fd@mail.example.com:587", "mail.example.com", 587, "StartTls", "u@x.org", "p:w/d",
        "smtp://u%40x.org:***@mail.example.com:587")]
    [InlineData("smtp://user:secret@127.0.0.1:2525", "127.0.0.1", 2525, "StartTlsWhenAvailable", "user", "secret",
        "smtp://user:***@127.0.0.1:2525")]
    [InlineData("smtp://user:secret@localhost:25", "localhost", 25, "StartTlsWhenAvailable", "user", "secret",
        "smtp://user:***@localhost:25")]
    [InlineData("smtps://user:secret@mail.example.com", "mail.example.com", 465, "SslOnConnect", "user", "secret",
        "smtps://user:***@mail.example.com:465")]
    [InlineData("smtp://[::1]:25", "::1", 25, "StartTlsWhenAvailable", null, null, "smtp://[::1]:25")]
    public void ReadsTheUrl(string url, string host, int port, string security, string? user, string? password, string description)
    {
        var parsed = SmtpServerUrl.Parse(url);

        Assert.Equal((host, port, security, user, password), (parsed.Host, parsed.Port, parsed.Security.ToString(), parsed.User,
            parsed.Password));
        Assert.Equal(description, parsed.Description);
        Assert.Equal(description, parsed.ToString());
    }

    [Theory]
    [InlineData("mail.example.com:25")]
    [InlineData("http://mail.example.com")]
    [InlineData("smtp://")]
    [InlineData("smtp://user:secret@mail.example.com:25/path")]
    [InlineData("smtp://mail.example.com:25?tls=off")]
    public void RefusesWhatIsNoSmtpUrlWithoutShowingThePassword(string url)
    {
        Assert.False(SmtpServerUrl.TryParse(url, out _, out var problem));
        Assert.DoesNotContain("secret", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRetryDelayDoublesUpToItsLimit()
    {
        var options = new EmailOptions { RetryDelaySeconds = 30, MaxRetryDelaySeconds = 3600 };

        Assert.Equal([30, 60, 120, 240, 480, 960, 1920, 3600, 3600],
            Enumerable.Range(1, 9).Select(attempts => options.RetryDelayAfter(attempts).TotalSeconds));
        Assert.Equal(3600, options.RetryDelayAfter(10_000).TotalSeconds);
    }
}
