using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Postern.Bench.Seed;
using Postern.Protocol;

namespace Postern.Bench;

/// <summary>The time of one kind of refused login, over every round.</summary>
public sealed record RefusedLoginTimes(string Kind, string Request, int Status, IReadOnlyList<double> Milliseconds)
{
    public double Median => Milliseconds.Order().ElementAt(Milliseconds.Count / 2);
}

/// <summary>What the <c>login-timing</c> scenario measured: each kind of refused login, and each against a wrong password's.</summary>
public sealed record LoginTimingResult(int Rounds, IReadOnlyList<RefusedLoginTimes> Kinds)
{
    public const string WrongPassword = "wrong password";
    public const string UnknownUser = "unknown user";
    public const string Locked = "locked account";

    /// <summary>A kind's median ÷ the wrong password's, both measured in this run.</summary>
    public double RatioToWrongPassword(RefusedLoginTimes kind) => kind.Median / Kinds.Single(k => k.Kind == WrongPassword).Median;
}

/// <summary>
/// What a password guesser can time on Postern: a wrong password for a real user (bob: his hash checked), an unknown
/// username (a dummy hash, as Django spends one), and a locked account (answered before any hash). One login at a time,
/// the three kinds in turn in rotating order, so that the machine's drift falls on all of them alike; a first round
/// warms up and is not counted. Each round comes from a loopback address of its own, so the address throttle (30
/// failures a minute) never takes part; bob signs in after every 4 wrong passwords, unmeasured, so his account never
/// locks. Postern's production settings: throttling on, 1,000,000 iterations.
/// </summary>
public static class LoginTiming
{
    /// <summary>Exists (seeded), never signed in by the other scenarios; the lock does not look at the password anyway.</summary>
    private const string LockedUsername = "user000";

    private const int FailuresBetweenClears = 4;

    public static async Task<LoginTimingResult> MeasureAsync(Uri baseAddress, int rounds, CancellationToken ct = default)
    {
        await LockAsync(baseAddress, ct);
        string[] kinds = [LoginTimingResult.WrongPassword, LoginTimingResult.UnknownUser, LoginTimingResult.Locked];
        var times = kinds.ToDictionary(kind => kind, _ => new List<double>());
        var bobFailures = 0;
        for (var round = 0; round <= rounds; round++)
        {
            using var client = new LoginClient(baseAddress, IPAddress.Parse($"127.0.1.{round + 1}"));
            await client.FetchTokenAsync(ct);
            for (var k = 0; k < kinds.Length; k++)
            {
                var kind = kinds[(round + k) % kinds.Length];
                var (username, expected) = kind switch
                {
                    LoginTimingResult.WrongPassword => (SeedData.LoginUsername, HttpStatusCode.Unauthorized),
                    LoginTimingResult.UnknownUser => ("nobody-" + Guid.NewGuid().ToString("N"), HttpStatusCode.Unauthorized),
                    _ => (LockedUsername, HttpStatusCode.TooManyRequests),
                };
                var (status, milliseconds) = await client.LoginAsync(username, "not-the-password", ct);
                if (kind == LoginTimingResult.Locked && status == HttpStatusCode.Unauthorized)
                {
                    // The lock ran out (a minute, on a slow run): lock again, and time this one again.
                    await LockAsync(baseAddress, ct);
                    (status, milliseconds) = await client.LoginAsync(username, "not-the-password", ct);
                }
                if (status != expected)
                    throw new InvalidOperationException($"A login of kind '{kind}' answered {(int)status}, not {(int)expected}.");
                if (round > 0)
                    times[kind].Add(milliseconds);
            }
            if (++bobFailures == FailuresBetweenClears)
            {
                var (status, _) = await client.LoginAsync(SeedData.LoginUsername, SeedData.LoginPassword, ct);
                if (status != HttpStatusCode.OK)
                    throw new InvalidOperationException($"Signing bob in to clear his failures answered {(int)status}.");
                bobFailures = 0;
            }
        }
        return new LoginTimingResult(rounds, kinds.Select(kind => new RefusedLoginTimes(kind,
            kind switch
            {
                LoginTimingResult.WrongPassword => $"{SeedData.LoginUsername}, a wrong password",
                LoginTimingResult.UnknownUser => "a username nobody has",
                _ => $"{LockedUsername}, locked by 5 failures",
            },
            kind == LoginTimingResult.Locked ? 429 : 401, times[kind])).ToList());
    }

    /// <summary>Wrong passwords for the locked user until it is locked (5 at most), from an address of their own.</summary>
    private static async Task LockAsync(Uri baseAddress, CancellationToken ct)
    {
        using var client = new LoginClient(baseAddress, IPAddress.Parse("127.0.2.1"));
        await client.FetchTokenAsync(ct);
        for (var i = 0; i < 6; i++)
        {
            if ((await client.LoginAsync(LockedUsername, "not-the-password", ct)).Status == HttpStatusCode.TooManyRequests)
                return;
        }
        throw new InvalidOperationException($"{LockedUsername} did not lock after 6 wrong passwords: is throttling on?");
    }

    /// <summary>An anonymous visitor with its CSRF token pair, its connections leaving from one loopback address.</summary>
    private sealed class LoginClient(Uri baseAddress, IPAddress source) : IDisposable
    {
        private readonly HttpClient _http = new(new SocketsHttpHandler
        {
            CookieContainer = new CookieContainer(),
            UseCookies = true,
            AllowAutoRedirect = false,
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromMinutes(2),
        };

        private string _token = "";

        /// <summary>The token pair, and a warm connection: neither is part of a timed login.</summary>
        public async Task FetchTokenAsync(CancellationToken ct)
        {
            using var response = await _http.GetAsync(EndpointPaths.Csrf, ct);
            response.EnsureSuccessStatusCode();
            _token = response.Headers.TryGetValues(HeaderNames.CsrfToken, out var values) ? values.First() : "";
            if (_token.Length == 0)
                throw new InvalidOperationException($"No {HeaderNames.CsrfToken} header in the answer of {EndpointPaths.Csrf}.");
        }

        /// <summary>One login, timed from sending it to reading its whole answer.</summary>
        public async Task<(HttpStatusCode Status, double Milliseconds)> LoginAsync(string username, string password, CancellationToken ct)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, EndpointPaths.Login);
            request.Headers.Add(HeaderNames.CsrfToken, _token);
            request.Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(new { username, password }),
                System.Text.Encoding.UTF8, "application/json");
            var watch = Stopwatch.StartNew();
            using var response = await _http.SendAsync(request, ct);
            await response.Content.ReadAsByteArrayAsync(ct);
            watch.Stop();
            return (response.StatusCode, watch.Elapsed.TotalMilliseconds);
        }

        public void Dispose() => _http.Dispose();
    }
}
