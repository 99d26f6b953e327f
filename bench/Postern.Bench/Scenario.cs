using System.Diagnostics;
using System.Text.Json;
using Postern.Bench.Seed;
using Postern.Protocol;

namespace Postern.Bench;

/// <summary>What a load's requests carry.</summary>
public enum Credentials
{
    /// <summary>Nothing: an anonymous visitor.</summary>
    None,

    /// <summary>A signed-in session's cookies (and its CSRF token for unsafe requests), rotating through the sessions.</summary>
    SignedIn,

    /// <summary>An anonymous CSRF token pair (cookie + header), as a login needs.</summary>
    AnonymousTokenPair,
}

/// <summary>
/// One wrk process: <paramref name="Script"/> (in bench/wrk) sending <paramref name="Method"/> <paramref name="Path"/>
/// over <paramref name="Connections"/> connections. <paramref name="Check"/> judges the JSON of one such
/// request, sent before the load starts: a problem, or null.
/// </summary>
public sealed record Load(string Label, string Script, HttpMethod Method, string Path, Credentials Credentials, int Connections,
    Func<JsonElement, string?> Check, string? Body = null)
{
    /// <summary>
    /// Background traffic beside the scenario's main load: it may rightly complete no request (the soak's logins yield
    /// to the reads).
    /// </summary>
    public bool Background { get; init; }
}

/// <summary>A scenario: its loads run at the same time against one server, then the next server.</summary>
public sealed record Scenario(string Key, string Title, string Description, IReadOnlyList<Load> Loads, IReadOnlySet<ServerKind> Servers)
{
    public const string SoakKey = "soak";

    /// <summary>Its requests are password hashes: the runner measures the hash bound first.</summary>
    public bool HashBound { get; init; }

    /// <summary>The baselines must answer exactly Postern's body here (their own origin aside), or the comparison is unfair.</summary>
    public bool SameBodyAsPostern { get; init; }

    /// <summary>Resident memory is sampled every second while it runs.</summary>
    public bool SamplesMemory { get; init; }

    /// <summary>Not wrk: refused logins timed one at a time (<see cref="LoginTiming"/>); it has no loads.</summary>
    public bool TimesRefusedLogins { get; init; }

    /// <summary>--scale: one instance of the deployment is stopped (SIGTERM) and started again while the load runs.</summary>
    public bool RestartsAnInstance { get; init; }

    private static readonly IReadOnlySet<ServerKind> Everyone = ServerKinds.All.ToHashSet();
    private static readonly IReadOnlySet<ServerKind> WithAccounts = ServerKinds.All.Where(k => k.SignsIn()).ToHashSet();

    public const int FloodGetConnections = 4;
    public const int SoakLoginConnections = 2;

    /// <summary>Every scenario's key, in the order they run.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["user-detail", "user-list", "csrf", "login", "write", "login-flood", LoginTimingKey, SoakKey, RestartKey];

    public const string LoginTimingKey = "login-timing";
    public const string RestartKey = "restart";

    /// <summary>What a run plays unless --only says otherwise: the soak only with --soak; --scale has no refused-login timing.</summary>
    public static IEnumerable<string> DefaultKeys(bool scale, bool soak) => scale
        ? Keys.Where(k => k is not (LoginTimingKey or SoakKey))
        : Keys.Where(k => k != RestartKey && (k != SoakKey || soak));

    /// <summary>What the login scenarios post.</summary>
    public static readonly string LoginBody =
        JsonSerializer.Serialize(new { username = SeedData.LoginUsername, password = SeedData.LoginPassword });

    /// <summary>What signs in the sessions the other scenarios read and write with (staff: the write scenario needs it).</summary>
    public static readonly string StaffLoginBody =
        JsonSerializer.Serialize(new { username = SeedData.StaffUsername, password = SeedData.StaffPassword });
    public const string GroupPatchBody = """{"name": "staff"}""";

    public static IReadOnlyList<Scenario> All(BenchOptions options)
    {
        var readConnections = options.ReadConnections;
        var detail = UserDetail(readConnections);
        var login = new Load("POST /auth/login", "unsafe.lua", HttpMethod.Post, EndpointPaths.Login, Credentials.AnonymousTokenPair,
            options.LoginConnections, IsLoggedIn, LoginBody);
        IReadOnlyList<Scenario> all =
        [
            new("user-detail", "(a) authenticated user detail", "GET /api/users/1/ with a signed-in session's cookie.",
                [detail], Everyone) { SameBodyAsPostern = true },
            new("user-list", "(b) authenticated list page of 10",
                "GET /api/users/?page=1 with a signed-in session's cookie; the body must hold 10 results.",
                [new("GET /api/users/?page=1", "get.lua", HttpMethod.Get, "/api/users/?page=1", Credentials.SignedIn, readConnections,
                    HasTenResults)], Everyone)
            { SameBodyAsPostern = true },
            new("csrf", "(c) GET /auth/csrf", "A CSRF token for a visitor without cookies (a new secret, masked, and its cookie).",
                [new("GET /auth/csrf", "get.lua", HttpMethod.Get, EndpointPaths.Csrf, Credentials.None, readConnections, HasCsrfToken)],
                Everyone),
            new("login", "(d) login",
                "POST /auth/login, JSON credentials with an anonymous token pair: one PBKDF2 hash at 1,000,000 iterations each.",
                [login], WithAccounts) { HashBound = true },
            new("write", "(e) unsafe write with CSRF", "PATCH /api/groups/1/ {\"name\": \"staff\"} as staff, with the token pair.",
                [new("PATCH /api/groups/1/", "unsafe.lua", HttpMethod.Patch, "/api/groups/1/", Credentials.SignedIn, readConnections,
                    IsStaffGroup, GroupPatchBody)], WithAccounts),
            new("login-flood", "(f) user detail during a login flood",
                $"(a) on {FloodGetConnections} connections while {options.FloodLoginConnections} connections log in as fast as they can.",
                [detail with { Label = "GET /api/users/1/ (during the flood)", Connections = FloodGetConnections },
                 login with { Label = "POST /auth/login (the flood)", Connections = options.FloodLoginConnections }], WithAccounts)
            { HashBound = true },
            new(LoginTimingKey, "(g) refused logins timed",
                "POST /auth/login one at a time: a wrong password for bob, an unknown username, a locked account, in turn;"
                + " the median of each and its ratio to the wrong password's.",
                [], new HashSet<ServerKind> { ServerKind.Postern })
            { TimesRefusedLogins = true },
            new(SoakKey, "soak: mixed traffic, memory sampled every second",
                $"mixed.lua (user details, list pages, CSRF tokens, a PATCH in 20) on {readConnections}"
                + $" connections, and logins on {SoakLoginConnections}.",
                [detail with { Label = "mixed (mixed.lua)", Script = "mixed.lua" },
                 login with { Label = "POST /auth/login (beside the mix)", Connections = SoakLoginConnections, Background = true }],
                WithAccounts)
            { SamplesMemory = true },
            new(RestartKey, "(h) user detail while an instance restarts",
                $"(a) through nginx on {readConnections} connections; a quarter into the run one Postern instance is stopped"
                + " (SIGTERM: it finishes what it serves and exits) and started again on the same port.",
                [detail with { Label = "GET /api/users/1/ (one instance restarted)" }],
                new HashSet<ServerKind> { ServerKind.PosternScaled })
            { RestartsAnInstance = true },
        ];
        Debug.Assert(all.Select(s => s.Key).SequenceEqual(Keys));
        return all;
    }

    /// <summary>(a): the signed-in GET that also warms servers up before their idle memory is read.</summary>
    public static Load UserDetail(int connections) =>
        new("GET /api/users/1/", "get.lua", HttpMethod.Get, "/api/users/1/", Credentials.SignedIn, connections, IsAlice);

    private static string? IsAlice(JsonElement body) =>
        body.TryGetProperty("username", out var name) && name.GetString() == SeedData.StaffUsername ? null : "not alice's user resource";

    private static string? HasTenResults(JsonElement body) =>
        body.TryGetProperty("results", out var results) && results.ValueKind == JsonValueKind.Array
            && results.GetArrayLength() == ApiLinks.PageSize
            ? null : "not a page of 10 results";

    private static string? HasCsrfToken(JsonElement body) =>
        body.TryGetProperty("csrfToken", out var token) && token.GetString() is { Length: > 0 } ? null : "no csrfToken";

    private static string? IsLoggedIn(JsonElement body) =>
        body.TryGetProperty("username", out var name) && name.GetString() == SeedData.LoginUsername ? null : "not bob's login answer";

    private static string? IsStaffGroup(JsonElement body) =>
        body.TryGetProperty("name", out var name) && name.GetString() == "staff" ? null : "not the staff group";
}
