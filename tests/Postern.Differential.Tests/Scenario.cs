using System.Collections.Immutable;
using System.Text;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Differential.Tests;

/// <summary>Which pair of servers a scenario runs against.</summary>
public enum Transport
{
    /// <summary>Plain HTTP: no Referer checks, cookies without Secure.</summary>
    Http,

    /// <summary>
    /// HTTPS as a TLS-terminating proxy reports it: every request carries <c>X-Forwarded-Proto: https</c>, and both
    /// servers trust it.
    /// </summary>
    HttpsBehindProxy,
}

/// <summary>The client's side of one scenario on one server: its cookies and the values it chose to remember.</summary>
public sealed class ClientState(Uri baseAddress, Transport transport)
{
    public CookieJar Jar { get; } = new();
    public Dictionary<string, string> Remembered { get; } = new(StringComparer.Ordinal);

    /// <summary>This server's host:port as the client addresses it.</summary>
    public string Authority { get; } = baseAddress.Authority;

    /// <summary>The port alone, to name this server under another host name.</summary>
    public int Port { get; } = baseAddress.Port;

    /// <summary>This server's own origin as a browser would name it (scheme://host:port).</summary>
    public string Origin { get; } = (transport == Transport.HttpsBehindProxy ? "https" : "http") + "://" + baseAddress.Authority;

    public string CsrfCookie =>
        Jar[CookieNames.Csrf] ?? throw new InvalidOperationException("The scenario needs a csrftoken cookie here but holds none.");
}

/// <summary>A request value that may depend on the client's state (its CSRF cookie, a remembered token, its origin).</summary>
public sealed record Value(Func<ClientState, string> Resolve)
{
    public static implicit operator Value(string constant) => new(_ => constant);

    /// <summary>The csrftoken cookie the client holds, as the seed's frontend sends it back.</summary>
    public static Value CsrfCookie { get; } = new(client => client.CsrfCookie);

    public static Value Remembered(string name) => new(client => client.Remembered[name]);

    /// <summary>This server's own origin followed by <paramref name="path"/>, e.g. a same-site Referer.</summary>
    public static Value OwnOrigin(string path = "") => new(client => client.Origin + path);
}

/// <summary>How a body is encoded; each resolves its values against the client state.</summary>
public abstract record Body
{
    public abstract HttpContent Create(ClientState client);

    public sealed record Json(string Text) : Body
    {
        public override HttpContent Create(ClientState client) => RawHttp.Json(Text);
    }

    /// <summary>JSON text made for each client (a key minted for the user it signed up).</summary>
    public sealed record JsonOf(Value Text) : Body
    {
        public override HttpContent Create(ClientState client) => RawHttp.Json(Text.Resolve(client));
    }

    public sealed record Raw(string Text, string ContentType) : Body
    {
        public override HttpContent Create(ClientState client)
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Text));
            content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            return content;
        }
    }

    public sealed record RawBytes(ImmutableArray<byte> Bytes, string ContentType) : Body
    {
        public override HttpContent Create(ClientState client)
        {
            var content = new ByteArrayContent([.. Bytes]);
            content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            return content;
        }
    }

    public sealed record UrlEncodedForm(ImmutableArray<(string Name, Value Value)> Fields) : Body
    {
        public override HttpContent Create(ClientState client) =>
            RawHttp.Form(Fields.Select(f => (f.Name, f.Value.Resolve(client))).ToArray());
    }

    public sealed record MultipartForm(ImmutableArray<(string Name, Value Value)> Fields) : Body
    {
        public override HttpContent Create(ClientState client)
        {
            var content = new MultipartFormDataContent();
            foreach (var (name, value) in Fields)
                content.Add(new StringContent(value.Resolve(client)), name);
            return content;
        }
    }
}

/// <summary>
/// One request of a scenario. Cookies come from the client's jar (unless told otherwise) and the
/// response's cookies go back into it, as a browser would do.
/// </summary>
public sealed record ScenarioStep(string Method, string Path)
{
    public bool SendsCookies { get; init; } = true;
    public ImmutableList<(string Name, Value Value)> Headers { get; init; } = [];
    public Body? Body { get; init; }

    /// <summary>Runs on the client state before the request is built: plant a cookie, remember a token.</summary>
    public Action<ClientState>? Before { get; init; }

    /// <summary>Runs on the client state once the response is in: remember what this server answered (a new user's id).</summary>
    public Action<ClientState, RawResponse>? After { get; init; }

    public Expectation Expect { get; init; } = Expectation.Same;

    /// <summary>What the peer must answer: keeps each scenario honest about what it exercises.</summary>
    public int? DjangoStatus { get; init; }

    public static ScenarioStep Get(string path) => new("GET", path);
    public static ScenarioStep Post(string path) => new("POST", path);
    public static ScenarioStep Send(string method, string path) => new(method, path);

    /// <summary>Sets a request header, replacing one of the same name the step already sends.</summary>
    public ScenarioStep WithHeader(string name, Value value) =>
        this with { Headers = Headers.RemoveAll(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Add((name, value)) };

    /// <summary>Sends one more header of this name, after any the step already sends.</summary>
    public ScenarioStep AddingHeader(string name, Value value) => this with { Headers = Headers.Add((name, value)) };

    /// <summary>The seed's way: the csrftoken cookie's value echoed in <c>X-CSRFToken</c>.</summary>
    public ScenarioStep WithCsrfHeader() => WithHeader(HeaderNames.CsrfToken, Value.CsrfCookie);

    public ScenarioStep WithJson(string json) => this with { Body = new Body.Json(json) };
    public ScenarioStep WithJson(Value json) => this with { Body = new Body.JsonOf(json) };
    public ScenarioStep WithRawBody(string text, string contentType) => this with { Body = new Body.Raw(text, contentType) };
    public ScenarioStep WithRawBody(byte[] bytes, string contentType) => this with { Body = new Body.RawBytes([.. bytes], contentType) };
    public ScenarioStep WithForm(params (string Name, Value Value)[] fields) => this with { Body = new Body.UrlEncodedForm([.. fields]) };
    public ScenarioStep WithMultipart(params (string Name, Value Value)[] fields) =>
        this with { Body = new Body.MultipartForm([.. fields]) };
    public ScenarioStep WithoutCookies() => this with { SendsCookies = false };
    public ScenarioStep Plant(string cookie, string value) => Prepare(client => client.Jar[cookie] = value);
    public ScenarioStep Remember(string name, Func<ClientState, string> value) =>
        Prepare(client => client.Remembered[name] = value(client));

    /// <summary>Remembers a value read from this step's response, for later steps on the same server.</summary>
    public ScenarioStep RememberFromResponse(string name, Func<RawResponse, string> value) =>
        this with { After = After + ((client, response) => client.Remembered[name] = value(response)) };
    public ScenarioStep Expecting(int djangoStatus) => this with { DjangoStatus = djangoStatus };
    public ScenarioStep Differing(Expectation expectation) => this with { Expect = expectation };

    public ScenarioStep Prepare(Action<ClientState> action) => this with { Before = Before + action };

    public override string ToString() => $"{Method} {Path}";
}

/// <summary>A named list of steps, run identically against the Django peer and Postern, each with its own client state.</summary>
public sealed record Scenario(string Name, Transport Transport, ImmutableArray<ScenarioStep> Steps)
{
    public Scenario(string name, params ScenarioStep[] steps) : this(name, Transport.Http, [.. steps])
    {
    }

    public static Scenario OverHttps(string name, params ScenarioStep[] steps) => new(name, Transport.HttpsBehindProxy, [.. steps]);

    public override string ToString() => Name;
}
