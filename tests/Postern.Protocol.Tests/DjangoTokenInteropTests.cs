using System.Text.Json;
using System.Text.Json.Nodes;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Protocol.Tests;

/// <summary>
/// Password reset tokens and signed values, made by the real Django (5.2 and Debian 12's 3.2) and by Postern with the
/// same secret key: the tokens are byte-identical for the same user state and time, and each side accepts what the
/// other made, and refuses it once expired or spent.
/// </summary>
public class DjangoTokenInteropTests
{
    private const string Secret = "interop-secret-key-for-tests-only-0123456789";
    private const string OldSecret = "an-older-secret-key-still-accepted-as-a-fallback";
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 20, 30, 33, TimeSpan.Zero);

    // Django's generator with its clock fixed (its _now is the documented seam for that), over a user-like object.
    private const string TokenScript = """
        import json, sys, datetime
        from django.conf import settings
        settings.configure(SECRET_KEY=sys.argv[0] if False else "SECRET", PASSWORD_RESET_TIMEOUT=259200, USE_TZ=True)
        from django.contrib.auth.tokens import PasswordResetTokenGenerator

        class User:
            def __init__(self, case):
                self.pk = case["id"]; self.password = case["password"]; self.email = case["email"]
                self.last_login = (datetime.datetime.fromisoformat(case["last_login"]) if case["last_login"] else None)
            @classmethod
            def get_email_field_name(cls): return "email"

        class At(PasswordResetTokenGenerator):
            def __init__(self, now): super().__init__(); self.now = now
            def _now(self): return self.now

        out = []
        for case in json.load(sys.stdin):
            user = User(case)
            now = datetime.datetime.utcfromtimestamp(case["now"])
            made = At(now).make_token(user)
            checks = {str(later): At(now + datetime.timedelta(seconds=later)).check_token(user, case["check"])
                      for later in (0, 259200, 259201)}
            out.append({"made": made, "checks": checks})
        print(json.dumps(out))
        """;

    public static TheoryData<PeerKind> Releases => [PeerKind.Modern, PeerKind.Legacy];

    private static readonly PasswordResetTokenSubject[] Users =
    [
        new(1, "pbkdf2_sha256$1000000$abcdefghijklmnopqrstuv$OKSG6WDpemIRA42KjbVb4PyALogkZiELHx9o6E9KvXI=", null, ""),
        new(2, "pbkdf2_sha256$1000000$saltsaltsaltsalt$hash=", new DateTimeOffset(2026, 12, 1, 8, 0, 59, 123, TimeSpan.Zero),
            "alice@example.org"),
        new(123456789, "!unusableAbc", new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero), "Ünïcode@exämple.org"),
    ];

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task TokensMatchDjangoByteForByteAndCheckBothWays(PeerKind release)
    {
        var generator = new PasswordResetTokenGenerator(Secret);
        var cases = new JsonArray();
        foreach (var user in Users)
        {
            cases.Add(new JsonObject
            {
                ["id"] = user.UserId,
                ["password"] = user.Password,
                ["email"] = user.Email,
                ["last_login"] = user.LastLogin?.ToString("yyyy-MM-ddTHH:mm:ss.ffffff+00:00", System.Globalization.CultureInfo.InvariantCulture),
                ["now"] = Now.ToUnixTimeSeconds(),
                ["check"] = generator.Make(user, Now),
            });
        }
        var output = await DjangoPython.RunAsync(release, TokenScript.Replace("\"SECRET\"", $"\"{Secret}\""), cases.ToJsonString());
        var results = JsonNode.Parse(output)!.AsArray();
        for (var i = 0; i < Users.Length; i++)
        {
            var djangoToken = results[i]!["made"]!.GetValue<string>();
            Assert.Equal(generator.Make(Users[i], Now), djangoToken);
            // Django accepts Postern's token up to the timeout, not a second after.
            Assert.True(results[i]!["checks"]!["0"]!.GetValue<bool>());
            Assert.True(results[i]!["checks"]!["259200"]!.GetValue<bool>());
            Assert.False(results[i]!["checks"]!["259201"]!.GetValue<bool>());
            // And Postern Django's, with the same limits.
            Assert.True(generator.Check(Users[i], djangoToken, Now.AddSeconds(259200), PasswordResetTokenGenerator.DefaultTimeout));
            Assert.False(generator.Check(Users[i], djangoToken, Now.AddSeconds(259201), PasswordResetTokenGenerator.DefaultTimeout));
        }
    }

    [Fact]
    public void ATokenIsSpentByANewPasswordALoginOrANewAddress()
    {
        var generator = new PasswordResetTokenGenerator(Secret);
        var user = Users[1];
        var token = generator.Make(user, Now);
        Assert.True(generator.Check(user, token, Now, PasswordResetTokenGenerator.DefaultTimeout));
        Assert.False(generator.Check(user with { Password = user.Password + "x" }, token, Now, PasswordResetTokenGenerator.DefaultTimeout));
        Assert.False(generator.Check(user with { LastLogin = Now }, token, Now, PasswordResetTokenGenerator.DefaultTimeout));
        Assert.False(generator.Check(user with { Email = "new@example.org" }, token, Now, PasswordResetTokenGenerator.DefaultTimeout));
        Assert.False(generator.Check(user with { UserId = 3 }, token, Now, PasswordResetTokenGenerator.DefaultTimeout));
        Assert.False(new PasswordResetTokenGenerator("another key").Check(user, token, Now, PasswordResetTokenGenerator.DefaultTimeout));
        Assert.True(new PasswordResetTokenGenerator("another key", [Secret]).Check(user, token, Now, PasswordResetTokenGenerator.DefaultTimeout));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("abc")]
    [InlineData("a-b-c")]
    [InlineData("ZZ-0123")]
    [InlineData("zzzzzzzzzzzzzz-0123")]
    [InlineData("-0123456789abcdef0123456789abcdef")]
    public void MalformedTokensAreRefused(string? token) =>
        Assert.False(new PasswordResetTokenGenerator(Secret).Check(Users[1], token, Now, PasswordResetTokenGenerator.DefaultTimeout));

    [Theory]
    [InlineData(1, "MQ")]
    [InlineData(42, "NDI")]
    [InlineData(123456789, "MTIzNDU2Nzg5")]
    public void UidsAreDjangosUrlSafeBase64(long id, string uid)
    {
        Assert.Equal(uid, ResetUid.Encode(id));
        Assert.Equal(id, ResetUid.Decode(uid));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("!!!")]
    [InlineData("YWJj")] // "abc"
    [InlineData("MA")] // "0"
    [InlineData("LTE")] // "-1"
    [InlineData("OTk5OTk5OTk5OTk5OTk5OTk5OTk5")] // beyond a 64-bit id
    public void UidsThatNameNoUserAreNull(string? uid) => Assert.Null(ResetUid.Decode(uid));

    // django.core.signing both ways: Django's dumps loads here, Postern's loads in Django, plain and compressed,
    // under the current key and a fallback, refused under another salt or past max_age.
    private const string SigningScript = """
        import json, sys
        from django.conf import settings
        from django.core import signing
        settings.configure(SECRET_KEY="SECRET")
        request = json.load(sys.stdin)
        fallback = ["FALLBACK"]
        loaded = []
        for value in request["postern"]:
            try:
                loaded.append(signing.loads(value, salt="postern.tests", max_age=60, fallback_keys=fallback)
                              if "fallback_keys" in signing.loads.__code__.co_varnames
                              else signing.loads(value, salt="postern.tests", max_age=60))
            except signing.BadSignature as e:
                loaded.append("refused: " + type(e).__name__)
        made = [signing.dumps([7, "alice@example.org"], salt="postern.tests"),
                signing.dumps({"list": list(range(40)), "text": "ü"}, salt="postern.tests", compress=True)]
        print(json.dumps({"loaded": loaded, "made": made}))
        """;

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task SignedValuesLoadBothWays(PeerKind release)
    {
        var now = DateTimeOffset.UtcNow;
        var signer = new DjangoSigner(Secret);
        var postern = new[]
        {
            signer.Dumps("""[7,"alice@example.org"]""", "postern.tests", now),
            signer.Dumps("""{"list":[0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9],"text":"ü"}""", "postern.tests", now, compress: true),
            signer.Dumps("[1]", "another.salt", now),
            signer.Dumps("[2]", "postern.tests", now.AddMinutes(-5)),
        };
        var script = SigningScript.Replace("\"SECRET\"", $"\"{Secret}\"").Replace("\"FALLBACK\"", $"\"{OldSecret}\"");
        var output = JsonNode.Parse(await DjangoPython.RunAsync(release, script, JsonSerializer.Serialize(new { postern })))!;
        var loaded = output["loaded"]!.AsArray();
        Assert.Equal("""[7,"alice@example.org"]""", loaded[0]!.ToJsonString());
        Assert.Equal("ü", loaded[1]!["text"]!.GetValue<string>());
        Assert.Equal("refused: BadSignature", loaded[2]!.GetValue<string>());
        Assert.Equal("refused: SignatureExpired", loaded[3]!.GetValue<string>());

        var made = output["made"]!.AsArray().Select(node => node!.GetValue<string>()).ToArray();
        Assert.Equal("""[7,"alice@example.org"]""", signer.Loads(made[0], "postern.tests", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1)));
        Assert.StartsWith(".", made[1]);
        Assert.Contains("\\u00fc", signer.Loads(made[1], "postern.tests", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1)));
        Assert.Null(signer.Loads(made[0], "another.salt", DateTimeOffset.UtcNow));
        Assert.Null(signer.Loads(made[0], "postern.tests", DateTimeOffset.UtcNow.AddMinutes(2), TimeSpan.FromMinutes(1)));
        Assert.NotNull(new DjangoSigner("rotated-key", [Secret]).Loads(made[0], "postern.tests", DateTimeOffset.UtcNow));
        Assert.Null(new DjangoSigner("rotated-key").Loads(made[0], "postern.tests", DateTimeOffset.UtcNow));
        Assert.Null(signer.Loads(made[0] + "x", "postern.tests", DateTimeOffset.UtcNow));
        Assert.Null(signer.Loads("no separators", "postern.tests", DateTimeOffset.UtcNow));
    }
}
