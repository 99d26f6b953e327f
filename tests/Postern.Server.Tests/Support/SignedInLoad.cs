using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Postern.Testing;

namespace Postern.Server.Tests.Support;

/// <summary>Where a fault stood when a request was sent or answered.</summary>
public enum FaultPhase
{
    Before,
    During,
    After,
}

/// <summary>What a load client asks: two reads, and a write every instance must hear about.</summary>
public enum LoadRequest
{
    /// <summary><c>GET /api/users/</c></summary>
    UserList,

    /// <summary><c>GET /auth/user</c></summary>
    CurrentUser,

    /// <summary><c>PATCH /api/users/{own id}/</c> with a new email</summary>
    PatchOwnEmail,
}

/// <summary>One request of a load run and what came of it: a status and its <c>detail</c>, or why there was no usable answer.</summary>
public sealed record LoadOutcome(int Client, LoadRequest Request, string Tag, HttpStatusCode? Status, string? Detail,
    string? RetryAfter, string? Failure, FaultPhase Sent, FaultPhase Answered)
{
    public bool Succeeded => Status == HttpStatusCode.OK && Failure is null;

    public override string ToString() =>
        $"client {Client} {Request} {Tag}: "
        + $"{(Status is { } status ? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture) : "no answer")}"
        + $" {Detail} {Failure} (sent {Sent}, answered {Answered})";
}

/// <summary>A client of a load run: a visitor signed in as its own staff user, and the session it must keep.</summary>
public sealed record LoadClient(int Index, string Username, long UserId, Visitor Visitor, string SessionKey);

/// <summary>
/// Signed-in clients, each sending a bounded number of requests one after another through one address: GETs of
/// <c>/api/users/</c> and <c>/auth/user</c>, and every tenth a PATCH of its own email (a write every instance must
/// hear about). Bounded in count and in time; every outcome is kept with the <see cref="Phase"/> of the fault when
/// it was sent and when it was answered. Each request carries a tag (<c>?r=</c>) so that nginx's access log can say
/// which instances it went to.
/// </summary>
public sealed class SignedInLoad(IReadOnlyList<LoadClient> clients, IReadOnlyList<HttpClient> connections) : IDisposable
{
    private readonly ConcurrentQueue<LoadOutcome> _outcomes = new();
    private int _phase;

    public IReadOnlyList<LoadClient> Clients => clients;

    public FaultPhase Phase
    {
        get => (FaultPhase)Volatile.Read(ref _phase);
        set => Volatile.Write(ref _phase, (int)value);
    }

    public IReadOnlyCollection<LoadOutcome> Outcomes => _outcomes;

    /// <summary>Signs every user in, each through an HTTP client of its own from <paramref name="newClient"/>.</summary>
    public static async Task<SignedInLoad> SignInAsync(
        Func<HttpClient> newClient, IEnumerable<(string Username, string Password, long UserId)> users)
    {
        var connections = users.Select(_ => newClient()).ToList();
        var signedIn = await Task.WhenAll(users.Select(async (user, index) =>
        {
            var visitor = new Visitor(connections[index]);
            var login = await visitor.LoginAsync(user.Username, user.Password);
            Assert.True(login.Status == HttpStatusCode.OK, $"{user.Username} could not sign in: {login.StatusCode} {login.Body}");
            return new LoadClient(index, user.Username, user.UserId, visitor, visitor.SessionCookie!);
        }));
        return new SignedInLoad(signedIn, connections);
    }

    public void Dispose()
    {
        foreach (var connection in connections)
            connection.Dispose();
    }

    /// <summary>
    /// Every client sends <paramref name="requestsPerClient"/> requests, or fewer if <paramref name="bound"/> passes
    /// first.
    /// </summary>
    public Task RunAsync(string run, int requestsPerClient, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        return Task.WhenAll(clients.Select(client => Task.Run(async () =>
        {
            for (var i = 0; i < requestsPerClient && DateTime.UtcNow < deadline; i++)
            {
                var request = i % 10 == 9 ? LoadRequest.PatchOwnEmail : i % 2 == 0 ? LoadRequest.UserList : LoadRequest.CurrentUser;
                var outcome = await SendAsync(client, request, $"{run}.{client.Index}.{i}");
                _outcomes.Enqueue(outcome);
                // A client backing off after a 503 (for less than Retry-After asks, to keep the run short).
                if (outcome.Status == HttpStatusCode.ServiceUnavailable)
                    await Task.Delay(100);
            }
        })));
    }

    /// <summary>
    /// One request for the client (through its own connection unless <paramref name="via"/>), its answer checked: who
    /// it says is signed in, the page, the email written.
    /// </summary>
    public async Task<LoadOutcome> SendAsync(LoadClient client, LoadRequest request, string tag, Visitor? via = null)
    {
        var visitor = via ?? client.Visitor;
        var sent = Phase;
        var email = $"{tag}@example.org";
        try
        {
            var response = request switch
            {
                LoadRequest.PatchOwnEmail => await visitor.SendAsync(HttpMethod.Patch, $"/api/users/{client.UserId}/?r={tag}",
                    RawHttp.Json($$"""{"email": "{{email}}"}"""), ("X-CSRFToken", visitor.CsrfCookie ?? "")),
                LoadRequest.UserList => await visitor.GetAsync($"/api/users/?r={tag}"),
                _ => await visitor.GetAsync($"/auth/user?r={tag}"),
            };
            return new LoadOutcome(client.Index, request, tag, response.Status, DetailOf(response), response.Header("Retry-After"),
                response.Status == HttpStatusCode.OK ? WrongBody(client, request, email, response) : null, sent, Phase);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new LoadOutcome(client.Index, request, tag, null, null, null, $"{e.GetType().Name}: {e.Message}", sent, Phase);
        }
    }

    private static string? DetailOf(RawResponse response)
    {
        try
        {
            return response.Detail;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string? WrongBody(LoadClient client, LoadRequest request, string email, RawResponse response)
    {
        try
        {
            var json = response.Json();
            var right = request switch
            {
                LoadRequest.UserList => json.GetProperty("count").GetInt64() > 0 && json.GetProperty("results").GetArrayLength() > 0,
                LoadRequest.PatchOwnEmail => json.GetProperty("email").GetString() == email,
                _ => json.GetProperty("username").GetString() == client.Username,
            };
            return right ? null : "wrong body: " + response.Body;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "not the JSON expected: " + response.Body;
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails the test if <paramref name="bound"/> passes first.</summary>
    public async Task WaitUntilAsync(Func<SignedInLoad, bool> condition, TimeSpan bound, string what)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!condition(this))
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {bound}: {what} ({_outcomes.Count} requests answered)");
            await Task.Delay(20);
        }
    }
}
