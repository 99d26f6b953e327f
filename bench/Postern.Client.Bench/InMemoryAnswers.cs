using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Postern.Bench.Seed;

namespace Postern.Client.Bench;

/// <summary>
/// The connection handler of the in-memory pair: answers at once with Postern's bytes for user 1 (any GET) and
/// group 1 (anything else), so that what is left to measure is the client's own cost per request, which the
/// round trip to a real server on a shared 2-core box buries in its noise.
/// </summary>
internal sealed class InMemoryAnswers(Uri origin) : HttpMessageHandler
{
    private readonly byte[] _user =
        JsonSerializer.SerializeToUtf8Bytes(Links(origin).Represent(SeedData.Users[0]), ApiJsonContext.Default.UserResource);
    private readonly byte[] _group =
        JsonSerializer.SerializeToUtf8Bytes(Links(origin).Represent(SeedData.Groups[0]), ApiJsonContext.Default.GroupResource);

    public Uri Origin => origin;

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private readonly string _sessionKey = RandomNumberGenerator.GetString(Alphabet, 32);

    /// <summary>The CSRF token the sign-in sets.</summary>
    public string CsrfToken { get; } = RandomNumberGenerator.GetString(Alphabet, 32);

    /// <summary>The Cookie header a client signed in here sends.</summary>
    public string CookieHeader => $"csrftoken={CsrfToken}; sessionid={_sessionKey}";

    /// <summary>What Postern's login sets: a session cookie and a rotated CSRF token.</summary>
    private IEnumerable<string> SignInCookies()
    {
        yield return $"sessionid={_sessionKey}; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax";
        yield return $"csrftoken={CsrfToken}; Max-Age=31449600; Path=/; SameSite=Lax";
    }

    private static ApiLinks Links(Uri origin) => new(origin.GetLeftPart(UriPartial.Authority));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(request.Method == HttpMethod.Get ? _user : _group);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request };
        response.Headers.TryAddWithoutValidation("Vary", "Accept, Cookie");
        if (request.RequestUri?.AbsolutePath == "/auth/login")
            response.Headers.TryAddWithoutValidation("Set-Cookie", SignInCookies());
        return Task.FromResult(response);
    }
}
