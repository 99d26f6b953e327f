using Postern.Server.Api;
using Postern.Server.Csrf;
using Postern.Server.Http;
using Postern.Server.Sessions;
using Postern.Server.Storage;
using Postern.Server.Throttling;

namespace Postern.Server.Accounts;

/// <summary>An answer an account endpoint can give, for the OpenAPI document: its status and what it means.</summary>
/// <param name="Details">The <c>detail</c> messages it may carry; none for field errors or a user.</param>
public sealed record AccountAnswer(int Status, string Description, params string[] Details)
{
    /// <summary>A body of its own (not a user, a detail or field errors), described property by property.</summary>
    public IReadOnlyList<BodyProperty>? Body { get; init; }
}

/// <summary>One property of an answer's body, for the OpenAPI document.</summary>
public sealed record BodyProperty(string Name, BodyPropertyKind Kind, string Description, bool Nullable = false);

public enum BodyPropertyKind { Text, Boolean, WholeNumber, DateTime, TextList }

/// <summary>
/// One account endpoint of docs/accounts.md, declared once: its path, method, fields, whether it needs a signed-in user,
/// and what it does with the cleaned values. <see cref="AccountEndpoints"/> maps every declaration the same way (CSRF
/// first, then 405, then the sign-in check, then the body, then the fields), and the OpenAPI document describes each from
/// the same declaration.
/// </summary>
public sealed class AccountEndpoint
{
    public required string Path { get; init; }
    public string Method { get; init; } = "POST";
    public required string OperationId { get; init; }
    public required string Summary { get; init; }
    public required string Description { get; init; }
    public IReadOnlyList<FormField> Fields { get; init; } = [];

    /// <summary>Anonymous requests get 403 "Authentication credentials were not provided.", as DRF answers them.</summary>
    public bool RequiresSignIn { get; init; }

    /// <summary>
    /// A sensitive action: the session must have authenticated within <see cref="AccountOptions.ReauthSeconds"/> (its login,
    /// or <c>POST /auth/reauthenticate</c>), or the answer is 401 with <c>reauthentication_required</c>. Implies sign-in, and
    /// is refused to an API token (which never authenticates again) unless <see cref="TokenRefusal"/> says otherwise.
    /// </summary>
    public bool RequiresRecentAuthentication { get; init; }

    public const string ReauthenticationRequired = "Reauthentication required.";
    public const string TokenCannotReauthenticate = "An API token cannot do this: sign in with a session.";

    /// <summary>
    /// Why a request authenticated by an API token may not use this endpoint (403 with these words); null when it may. A token
    /// is for reading and writing data, not for taking over the account (the password, the address resets go to).
    /// </summary>
    public string? TokenRefusal { get; init; }

    /// <summary>PATCH-style: only the fields the body names are cleaned, and none is required.</summary>
    public bool Partial { get; init; }

    public IReadOnlyList<AccountAnswer> Answers { get; init; } = [];

    /// <summary>How often it may be asked for (Throttling/RequestRateLimiter.cs): beyond a rate, 429 with DRF's body.</summary>
    public IReadOnlyList<RateLimit> RateLimits { get; init; } = [];

    public required Func<AccountCall, Task> Handle { get; init; }

    internal async Task RunAsync(HttpContext context)
    {
        if (context.Request.Method != Method)
        {
            await JsonResponses.WriteMethodNotAllowedAsync(context, Method);
            return;
        }
        // Only an endpoint for signed-in users looks at the session: the others' answers do not vary by Cookie (as Django's).
        var signInRequired = RequiresSignIn || RequiresRecentAuthentication;
        var session = signInRequired ? await context.GetRequestUser().GetAsync() : null;
        if (signInRequired && session is null)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status403Forbidden, AuthEndpoints.NotAuthenticated);
            return;
        }
        var tokenRefusal = TokenRefusal ?? (RequiresRecentAuthentication ? TokenCannotReauthenticate : null);
        if (session is { ByToken: true } && tokenRefusal is not null)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status403Forbidden, tokenRefusal);
            return;
        }
        if (RequiresRecentAuthentication && !IsRecent(context, session!.Session!))
        {
            await JsonResponses.WriteFlaggedDetailAsync(
                context, StatusCodes.Status401Unauthorized, ReauthenticationRequired, "reauthentication_required");
            return;
        }
        // GET and DELETE declarations have no fields, and their requests no body to read.
        var input = Fields.Count == 0 ? FormInput.Empty : await FormInput.ReadAsync(context.Request, context.RequestAborted);
        if (input.Malformed)
        {
            await JsonResponses.WriteDetailAsync(context, StatusCodes.Status400BadRequest, AccountCall.MalformedBody);
            return;
        }
        var errors = new FieldErrors();
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var field in Fields)
        {
            if (!Partial || input.Has(field.Name))
                values[field.Name] = (Partial ? field with { Required = false } : field).Clean(input, errors);
        }
        var call = new AccountCall(context, session?.User, session?.Session, values, errors) { FieldOrder = Fields };
        foreach (var limit in RateLimits)
        {
            if (limit.Subject(call) is not { } subject)
                continue;
            var wait = await context.RequestServices.GetRequiredService<RequestRateLimiter>().HitAsync(limit.RateName, subject, call.Aborted);
            if (wait > 0)
            {
                context.Response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await JsonResponses.WriteDetailAsync(context, StatusCodes.Status429TooManyRequests, LoginThrottle.Detail(wait));
                return;
            }
        }
        await Handle(call);
    }

    /// <summary>
    /// Whether the session authenticated recently: a session is opened by a login and opened anew by a reauthentication,
    /// so its age is the age of its last authentication.
    /// </summary>
    internal static bool IsRecent(HttpContext context, SessionRecord session) =>
        ReauthenticationSecondsLeft(context, session) > 0;

    /// <summary>How long the session's reauthentication window still lasts, in whole seconds (0: closed).</summary>
    public static int ReauthenticationSecondsLeft(HttpContext context, SessionRecord session)
    {
        var window = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<AccountOptions>>().Value.ReauthSeconds;
        var age = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow() - session.CreatedAt;
        return (int)Math.Max(0, Math.Ceiling(window - age.TotalSeconds));
    }
}

/// <summary>One rate an account endpoint is held to, and what it counts by.</summary>
/// <param name="Subject">The request's subject for this rate (its address, an e-mail address), or null to not count it.</param>
public sealed record RateLimit(string RateName, Func<AccountCall, string?> Subject)
{
    /// <summary>Counted per client address (the socket's, or the trusted proxy's report).</summary>
    public static RateLimit PerAddress(string rateName) =>
        new(rateName, call => call.Context.Connection.RemoteIpAddress?.ToString());

    /// <summary>Counted per value of a field, ignoring case (as addresses are matched); not counted when the field is invalid.</summary>
    public static RateLimit PerField(string rateName, string field) =>
        new(rateName, call => call.Value(field)?.ToUpperInvariant());
}

/// <summary>What an account endpoint's handler works with: the request, its user, the cleaned values and the errors so far.</summary>
public sealed class AccountCall(
    HttpContext context, User? user, SessionRecord? session, IReadOnlyDictionary<string, string?> values, FieldErrors errors)
{
    public const string MalformedBody = "Malformed request body.";

    public HttpContext Context => context;

    /// <summary>The signed-in user, when there is one (always, for an endpoint that requires sign-in).</summary>
    public User? User => user;

    public SessionRecord? Session => session;

    public FieldErrors Errors => errors;

    /// <summary>The form's fields: errors are reported in their order, as a Django form's errors follow its fields.</summary>
    public IReadOnlyList<FormField> FieldOrder { get; init; } = [];

    public CancellationToken Aborted => context.RequestAborted;

    /// <summary>The cleaned value of a field: null when it failed (see <see cref="Errors"/>) or the body did not name it.</summary>
    public string? Value(string field) => values.TryGetValue(field, out var value) ? value : null;

    public bool Has(string field) => values.ContainsKey(field);

    public T Service<T>() where T : notnull => context.RequestServices.GetRequiredService<T>();

    /// <summary>400 with the field errors, as DRF words a ValidationError.</summary>
    public Task InvalidAsync()
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        var ordered = errors.All
            .OrderBy(e => FieldOrder.Select(f => f.Name).ToList() is var names && names.IndexOf(e.Key) is >= 0 and var i ? i : int.MaxValue)
            .ToList();
        return JsonResponses.SendAsync(context, ordered, static (writer, errors) =>
        {
            writer.WriteStartObject();
            foreach (var (field, messages) in errors)
            {
                writer.WriteStartArray(field);
                foreach (var message in messages)
                    writer.WriteStringValue(message);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        });
    }

    public Task DetailAsync(int status, string detail) => JsonResponses.WriteDetailAsync(context, status, detail);

    /// <summary>This site's origin as the request names it (behind a trusted proxy, as the proxy reports it).</summary>
    public string Origin => $"{context.Request.Scheme}://{context.Request.Host}";

    /// <summary>A new session for <paramref name="signedIn"/> and a new CSRF secret, as a login gives.</summary>
    public async Task<bool> SignInAsync(User signedIn)
    {
        if (!await context.GetRequestSession().LoginAsync(signedIn))
            return false;
        context.GetCsrfCookie().Rotate();
        return true;
    }
}
