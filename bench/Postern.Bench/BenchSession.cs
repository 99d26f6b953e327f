using System.Net;
using System.Net.Http.Json;
using Postern.Bench.Seed;
using Postern.Protocol;

namespace Postern.Bench;

/// <summary>What a request of one session carries: its Cookie header, and the token for X-CSRFToken.</summary>
public sealed record BenchSession(string Cookie, string CsrfToken)
{
    /// <summary>Bare Kestrel's only "session": no cookie, no token.</summary>
    public static readonly BenchSession Anonymous = new("", "");

    /// <summary>
    /// Signs in as the staff user the way a frontend does: <c>GET /auth/csrf</c>, <c>POST /auth/login</c>
    /// with X-CSRFToken, then <c>GET /auth/csrf</c> again for the token of the signed-in session (Django and
    /// Postern rotate the secret at login; ASP.NET antiforgery binds its tokens to the user).
    /// </summary>
    public static async Task<BenchSession> SignInAsync(Uri baseAddress, CancellationToken ct = default)
    {
        var jar = new CookieContainer();
        using var http = Client(baseAddress, jar);
        var token = await FetchTokenAsync(http, ct);
        using (var login = new HttpRequestMessage(HttpMethod.Post, EndpointPaths.Login))
        {
            login.Headers.Add(HeaderNames.CsrfToken, token);
            login.Content = new StringContent(Scenario.StaffLoginBody, System.Text.Encoding.UTF8, "application/json");
            using var response = await http.SendAsync(login, ct);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new InvalidOperationException(
                    $"Signing in at {baseAddress} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }
        var signedInToken = await FetchTokenAsync(http, ct);
        return new BenchSession(jar.GetCookieHeader(baseAddress), signedInToken);
    }

    /// <summary>A visitor's token pair: the CSRF cookie and the token that goes with it.</summary>
    public static async Task<BenchSession> AnonymousTokenPairAsync(Uri baseAddress, CancellationToken ct = default)
    {
        var jar = new CookieContainer();
        using var http = Client(baseAddress, jar);
        var token = await FetchTokenAsync(http, ct);
        return new BenchSession(jar.GetCookieHeader(baseAddress), token);
    }

    /// <summary>Many sessions, a few at a time (each sign-in is a password hash).</summary>
    public static async Task<IReadOnlyList<BenchSession>> ManyAsync(
        int count, Func<CancellationToken, Task<BenchSession>> create, CancellationToken ct = default)
    {
        var sessions = new BenchSession[count];
        await Parallel.ForAsync(0, count,
            new ParallelOptions { MaxDegreeOfParallelism = 2 * Environment.ProcessorCount, CancellationToken = ct },
            async (i, token) => sessions[i] = await create(token));
        return sessions;
    }

    /// <summary>The file bench/wrk/common.lua reads: one session a line, cookie and token separated by a tab.</summary>
    public static async Task<string> WriteFileAsync(string path, IReadOnlyList<BenchSession> sessions)
    {
        await File.WriteAllLinesAsync(path, sessions.Select(s => s.Cookie + "\t" + s.CsrfToken));
        return path;
    }

    private static HttpClient Client(Uri baseAddress, CookieContainer jar) =>
        new(new SocketsHttpHandler { CookieContainer = jar, UseCookies = true, AllowAutoRedirect = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromMinutes(2),
        };

    private static async Task<string> FetchTokenAsync(HttpClient http, CancellationToken ct)
    {
        using var response = await http.GetAsync(EndpointPaths.Csrf, ct);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync(ApiJsonContext.Default.CsrfTokenBody, ct);
        return body?.CsrfToken is { Length: > 0 } token
            ? token
            : throw new InvalidOperationException("No csrfToken in the answer of /auth/csrf.");
    }
}
