using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Postern.Protocol;
using Postern.Server.Storage;
using Postern.Testing;

namespace Postern.Server.Tests.Support;

/// <summary>
/// One real server for the bad-input tests, with one user whose credentials many bad requests carry,
/// so that a parser that wrongly accepted them would visibly log in. Behind a (trusted) proxy and with
/// a wildcard trusted origin, so the Referer and origin parsers see the garbage too.
/// </summary>
public sealed class BadInputServer : IAsyncLifetime
{
    public const string Username = "alice";
    public const string Password = "alice-password";

    private PosternTestServer? _server;

    public PosternTestServer Server => _server ?? throw new InvalidOperationException("Not started.");
    public Uri Address => Server.BaseAddress;
    /// <summary>Postern:Limits:MaxRequestBodyBytes, left at its default.</summary>
    public const int MaxBodyBytes = 1_048_576;

    /// <summary>A well-formed CSRF secret sent as both cookie and header, so requests get past the CSRF check to the parsers.</summary>
    public string CsrfSecret { get; } = CsrfToken.NewSecret();

    public User User { get; private set; } = null!;

    /// <summary>
    /// Every line the server logs while the suite runs, at every level: when the suite is done, none may hold a password,
    /// session key or CSRF secret it used (<see cref="DisposeAsync"/>; RequestLogTests has the same check on its own).
    /// </summary>
    public EveryLogLine Log { get; } = new();

    private readonly ConcurrentBag<string> _secrets = [Password, StaffPassword];

    public async Task InitializeAsync()
    {
        _secrets.Add(CsrfSecret);
        _server = await PosternTestServer.StartAsync(new Dictionary<string, string?>(EveryLogLine.Settings())
        {
            ["Postern:Proxy:TrustForwardedProto"] = "true",
            ["Postern:Proxy:TrustForwardedHost"] = "true",
            ["Postern:Csrf:TrustedOrigins:0"] = "https://*.trusted.example",
        }, services: s => s.AddSingleton<ILoggerProvider>(Log));
        User = await Server.CreateUserAsync(Username, Password);
        await Server.CreateUserAsync(StaffUsername, StaffPassword, staff: true);
    }

    public const string StaffUsername = "staffer";
    public const string StaffPassword = "staffer-password";

    /// <summary>A signed-in staff session (key, and the CSRF secret login rotated to), for the API's write endpoints.</summary>
    public async Task<(string Session, string Csrf)> StaffSessionAsync()
    {
        var login = await PostLoginAsync("application/json", $"{{\"username\": \"{StaffUsername}\", \"password\": \"{StaffPassword}\"}}");
        string Cookie(string name) =>
            login.SetCookies.Single(c => c.StartsWith(name + "=", StringComparison.Ordinal)).Split(';')[0][(name.Length + 1)..];
        var (session, csrf) = (Cookie("sessionid"), Cookie("csrftoken"));
        _secrets.Add(session);
        _secrets.Add(csrf);
        return (session, csrf);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }

    /// <summary>Throws if any line logged so far, at any level, holds a password, session key or CSRF secret the suite used.</summary>
    public void AssertNoSecretLogged()
    {
        var lines = Log.Lines;
        var leaked = _secrets.Distinct()
            .Select(secret => (Secret: secret, Line: lines.FirstOrDefault(line => line.Text.Contains(secret, StringComparison.Ordinal)).Text))
            .Where(found => found.Line is not null)
            .ToList();
        if (leaked.Count > 0)
            throw new InvalidOperationException("The bad-input suite's secrets reached the log:\n"
                + string.Join("\n", leaked.Select(found => $"'{found.Secret}' in: {found.Line}")));
    }

    public (string, string)[] CsrfHeaders => [("Cookie", $"csrftoken={CsrfSecret}"), ("X-CSRFToken", CsrfSecret)];

    /// <summary>What a request may have written: users, alice's last login and live sessions.</summary>
    public async Task<StoreSnapshot> SnapshotAsync()
    {
        var users = await Server.Users.CountUsersAsync();
        var alice = await Server.Users.FindUserByIdAsync(User.Id);
        var sessions = await Server.Sessions.ListLiveSessionsOfUserAsync(User.Id, DateTimeOffset.UtcNow.AddMinutes(-1));
        return new StoreSnapshot(users, alice?.LastLogin, alice?.Password, sessions.Select(s => s.Key).Order().ToArray());
    }

    /// <summary>A POST to /auth/login with CSRF in order and an honest Content-Length.</summary>
    public Task<SocketResponse> PostLoginAsync(string? contentType, byte[] body, params (string, string)[] extraHeaders)
    {
        var headers = new List<(string, string)>(CsrfHeaders);
        if (contentType is not null)
            headers.Add(("Content-Type", contentType));
        headers.Add(("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        headers.AddRange(extraHeaders);
        return SocketHttp.ExchangeAsync(Address, SocketHttp.Head("POST", EndpointPaths.Login, Address, [.. headers]), body);
    }

    public Task<SocketResponse> PostLoginAsync(string? contentType, string latin1Body, params (string, string)[] extraHeaders) =>
        PostLoginAsync(contentType, Encoding.Latin1.GetBytes(latin1Body), extraHeaders);
}

public sealed record StoreSnapshot(long Users, DateTimeOffset? LastLogin, string? PasswordHash, string[] SessionKeys)
{
    public bool Equals(StoreSnapshot? other) =>
        other is not null && Users == other.Users && LastLogin == other.LastLogin && PasswordHash == other.PasswordHash
        && SessionKeys.SequenceEqual(other.SessionKeys);

    public override int GetHashCode() => HashCode.Combine(Users, LastLogin, PasswordHash, SessionKeys.Length);

    public override string ToString() => $"users={Users} last_login={LastLogin:O} sessions=[{string.Join(",", SessionKeys)}]";
}
