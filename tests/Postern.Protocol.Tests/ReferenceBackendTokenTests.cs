using System.Globalization;
using System.Net;
using System.Text.Json;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Protocol.Tests;

/// <summary>
/// Postern's reset tokens, reset uids and verification keys, made from the reference backend's own database rows and
/// posted to the running reference backend (tests/django-backend, Django 5.2 and 3.2) with the same secret key: its
/// /auth/password/reset/confirm and /auth/email/verify take them, and refuse them once spent or expired. Beside
/// <see cref="DjangoTokenInteropTests"/>, which checks the algorithms against Django in-process: this checks the wiring
/// (the secret key, the uid of the id, the salt and payload of the key, the time zone of the timestamps).
/// </summary>
public sealed class ReferenceBackendTokenTests
{
    private const string Secret = "reference-backend-interop-secret-for-tests-only-77d1";
    private const string VerificationSalt = "postern.accounts.email-verification";
    private const string NewPassword = "n3w-Passw0rd!";

    public static TheoryData<PeerKind> Releases => [PeerKind.Modern, PeerKind.Legacy];

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task ThePeerTakesPosternsResetTokensUntilSpent(PeerKind release)
    {
        await using var backend = await Backend.StartAsync(release);
        var generator = new PasswordResetTokenGenerator(Secret);

        // alice has never logged in (no last login); bob has, just now.
        var bobLogin = await backend.SendAsync("/auth/login", new { username = "bob", password = "bob-password" });
        Assert.Equal(HttpStatusCode.OK, bobLogin.Status);
        foreach (var username in new[] { "alice", "bob" })
        {
            var user = await backend.RowAsync(username);
            var token = generator.Make(user, DateTimeOffset.UtcNow);
            var confirm = new { uid = ResetUid.Encode(user.UserId), token, new_password1 = NewPassword, new_password2 = NewPassword };
            var taken = await backend.SendAsync("/auth/password/reset/confirm", confirm);
            Assert.True(taken.Status == HttpStatusCode.OK, $"{username}: {taken.Body}");
            // The new password hash spends it.
            var replayed = await backend.SendAsync("/auth/password/reset/confirm", confirm);
            Assert.Equal("""{"token": ["Invalid value"]}""", replayed.Body);
        }

        // A login spends a token too (the last login counts to the second).
        var before = await backend.RowAsync("alice");
        var spent = new
        {
            uid = ResetUid.Encode(before.UserId),
            token = generator.Make(before, DateTimeOffset.UtcNow),
            new_password1 = "an0ther-Passw0rd",
            new_password2 = "an0ther-Passw0rd",
        };
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        var aliceLogin = await backend.SendAsync("/auth/login", new { username = "alice", password = NewPassword });
        Assert.Equal(HttpStatusCode.OK, aliceLogin.Status);
        Assert.Equal("""{"token": ["Invalid value"]}""", (await backend.SendAsync("/auth/password/reset/confirm", spent)).Body);

        // Made three days and a minute ago, or under another key: refused.
        var bob = await backend.RowAsync("bob");
        var old = generator.Make(bob, DateTimeOffset.UtcNow - PasswordResetTokenGenerator.DefaultTimeout - TimeSpan.FromMinutes(1));
        var nearlyOld = generator.Make(bob, DateTimeOffset.UtcNow - PasswordResetTokenGenerator.DefaultTimeout + TimeSpan.FromMinutes(1));
        var otherKey = new PasswordResetTokenGenerator("another key").Make(bob, DateTimeOffset.UtcNow);
        foreach (var refused in new[] { old, otherKey })
        {
            var answer = await backend.SendAsync("/auth/password/reset/confirm",
                new { uid = ResetUid.Encode(bob.UserId), token = refused, new_password1 = "x", new_password2 = "x" });
            Assert.Equal("""{"token": ["Invalid value"]}""", answer.Body);
        }
        var stillGood = await backend.SendAsync("/auth/password/reset/confirm", new
        {
            uid = ResetUid.Encode(bob.UserId),
            token = nearlyOld,
            new_password1 = "an0ther-Passw0rd",
            new_password2 = "an0ther-Passw0rd",
        });
        Assert.True(stillGood.Status == HttpStatusCode.OK, stillGood.Body);
    }

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task ThePeerTakesPosternsVerificationKeys(PeerKind release)
    {
        await using var backend = await Backend.StartAsync(release);
        var signer = new DjangoSigner(Secret);
        var created = await backend.SendAsync("/auth/signup",
            new { username = "vic", email = "vic@example.org", password1 = "tr0ub4dor&3-staple", password2 = "tr0ub4dor&3-staple" });
        Assert.True(created.Status == HttpStatusCode.Created, created.Body);
        var id = (await backend.RowAsync("vic")).UserId;
        string Key(string address, TimeSpan age, string salt = VerificationSalt) =>
            signer.Dumps($"[{id},{JsonSerializer.Serialize(address)}]", salt, DateTimeOffset.UtcNow - age);

        foreach (var refused in new[]
        {
            Key("vic@example.org", TimeSpan.FromDays(3) + TimeSpan.FromMinutes(1)),
            Key("vic@elsewhere.example", TimeSpan.Zero),
            Key("vic@example.org", TimeSpan.Zero, salt: "another.salt"),
            new DjangoSigner("another key").Dumps($"[{id},\"vic@example.org\"]", VerificationSalt, DateTimeOffset.UtcNow),
        })
        {
            Assert.Equal("""{"key": ["Invalid value"]}""", (await backend.SendAsync("/auth/email/verify", new { key = refused })).Body);
        }
        Assert.False((await backend.SendAsync("/auth/user")).Json().GetProperty("email_verified").GetBoolean());
        var nearlyExpired = Key("vic@example.org", TimeSpan.FromDays(3) - TimeSpan.FromMinutes(1));
        var verified = await backend.SendAsync("/auth/email/verify", new { key = nearlyExpired });
        Assert.True(verified.Status == HttpStatusCode.OK, verified.Body);
        Assert.True((await backend.SendAsync("/auth/user")).Json().GetProperty("email_verified").GetBoolean());
    }

    /// <summary>The reference backend on a database file of its own, and a browser-like client with its CSRF token.</summary>
    private sealed class Backend : IAsyncDisposable
    {
        private readonly DjangoPeer _peer;
        private readonly HttpClient _client;
        private readonly CookieJar _jar = new();
        private readonly string _folder;

        private Backend(DjangoPeer peer, string folder)
        {
            _peer = peer;
            _folder = folder;
            _client = peer.CreateRawClient();
        }

        private string Database => Path.Combine(_folder, "reference-backend.sqlite3");

        public static async Task<Backend> StartAsync(PeerKind release)
        {
            var folder = Directory.CreateTempSubdirectory("reference-backend-tokens-").FullName;
            var peer = await DjangoPeer.StartAsync(release, new Dictionary<string, string>
            {
                ["DJANGO_BACKEND_DB"] = Path.Combine(folder, "reference-backend.sqlite3"),
                ["DJANGO_BACKEND_SECRET_KEY"] = Secret,
                ["DJANGO_BACKEND_SIGNUP_ENABLED"] = "1",
            });
            var backend = new Backend(peer, folder);
            await backend.SendAsync("/auth/csrf");
            return backend;
        }

        /// <summary>GET without a body, otherwise POST of <paramref name="body"/> as JSON with the CSRF token.</summary>
        public async Task<RawResponse> SendAsync(string path, object? body = null)
        {
            (string, string)[] headers = [.. _jar.Header(), ("X-CSRFToken", _jar[CookieNames.Csrf] ?? "")];
            var response = body is null
                ? await _client.SendAsync(HttpMethod.Get, path, headers)
                : await _client.SendAsync(HttpMethod.Post, path, headers, RawHttp.Json(JsonSerializer.Serialize(body)));
            _jar.Absorb(response);
            return response;
        }

        /// <summary>What Django's token is computed over, read from the backend's database as it stands.</summary>
        public async Task<PasswordResetTokenSubject> RowAsync(string username)
        {
            const string Script = """
                import json, sqlite3, sys
                row = sqlite3.connect(sys.stdin.readline().strip()).execute(
                    "select id, password, last_login, email from auth_user where username = ?", (sys.stdin.readline().strip(),)).fetchone()
                print(json.dumps(row))
                """;
            var row = JsonDocument.Parse(await DjangoPython.RunAsync(PeerKind.Legacy, Script, $"{Database}\n{username}\n")).RootElement;
            // Django keeps an aware date-time as UTC text without a zone (USE_TZ).
            DateTimeOffset? lastLogin = row[2].ValueKind == JsonValueKind.Null
                ? null
                : DateTimeOffset.Parse(row[2].GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            return new PasswordResetTokenSubject(row[0].GetInt64(), row[1].GetString()!, lastLogin, row[3].GetString()!);
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await _peer.DisposeAsync();
            Directory.Delete(_folder, recursive: true);
        }
    }
}
