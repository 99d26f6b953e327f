using System.Net;
using System.Text.Json;

namespace Postern.Client;

/// <summary>
/// Turns a failed response into the typed exception it means, reading DRF's <c>detail</c> and field errors, and
/// allauth's headless <c>{"status", "errors": [{"message", "code", "param"}]}</c>.
/// </summary>
internal static class ErrorMapping
{
    private const string NotAuthenticated = "Authentication credentials were not provided.";

    /// <summary>allauth's codes for a refused login and for its login rate limit.</summary>
    private const string AllauthWrongPassword = "username_password_mismatch";
    private const string AllauthTooManyAttempts = "too_many_login_attempts";

    public static async Task EnsureSuccessAsync(HttpResponseMessage response, bool hadSession, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode && (int)response.StatusCode is not (>= 300 and < 400))
            throw await ToExceptionAsync(response, hadSession, login: false, ct);
    }

    /// <summary><c>POST http://host/accounts/login/</c>: every error line names the request that failed.</summary>
    public static string RequestLine(HttpResponseMessage response) =>
        $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}";

    public static async Task<PosternException> ToExceptionAsync(
        HttpResponseMessage response, bool hadSession, bool login, CancellationToken ct)
    {
        var error = await MapAsync(response, hadSession, login, ct);
        error.Request ??= RequestLine(response);
        return error;
    }

    private static async Task<PosternException> MapAsync(HttpResponseMessage response, bool hadSession, bool login, CancellationToken ct)
    {
        var status = response.StatusCode;
        var body = await response.Content.ReadAsStringAsync(ct);
        var answer = Parse(body);
        var detail = answer.Detail;
        var where = RequestLine(response);
        var message = $"{where}: {(int)status} {detail ?? response.ReasonPhrase}";
        if (body.Contains("CSRF Failed", StringComparison.Ordinal) || body.Contains("CSRF verification failed", StringComparison.Ordinal))
            return new CsrfFailedException(message, status, detail ?? "CSRF verification failed.");
        if (status == HttpStatusCode.TooManyRequests || answer.Codes.Contains(AllauthTooManyAttempts))
            return new ThrottledException(message, status, detail, RetryAfter(response));
        if (status == HttpStatusCode.Unauthorized && answer.ReauthenticationRequired)
            return new ReauthenticationRequiredException($"{where}: reauthentication required: confirm your password.", status, detail);
        if (status == HttpStatusCode.Unauthorized && answer.TwoFactorRequired)
            return new TwoFactorRequiredException($"{where}: two-factor authentication required.", status, detail);
        if (login && answer.Codes.Contains(AllauthWrongPassword))
            return new InvalidCredentialsException(detail ?? "Invalid username or password.", status, detail);
        return status switch
        {
            // DRF's challenge names the scheme that failed: the token, not a session or a password.
            HttpStatusCode.Unauthorized when response.Headers.WwwAuthenticate.Any(h => h.Scheme.Equals(
                    Protocol.ApiToken.Keyword, StringComparison.OrdinalIgnoreCase)) =>
                new InvalidTokenException($"{where}: the API token was refused: {detail ?? "Invalid token."}", status, detail),
            HttpStatusCode.Unauthorized when login =>
                new InvalidCredentialsException(detail ?? "Invalid username or password.", status, detail),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                when detail == NotAuthenticated || status == HttpStatusCode.Unauthorized =>
                hadSession
                    ? new SessionExpiredException($"{where}: the session has expired or was ended; log in again.", status, detail)
                    : new NotAuthenticatedException($"{where}: not logged in.", status, detail),
            HttpStatusCode.Forbidden => new PermissionDeniedException(message, status, detail),
            HttpStatusCode.BadRequest when answer.Fields.Count > 0 => new ValidationException(
                $"{where}: 400 " + string.Join("; ", answer.Fields.Select(f => $"{f.Key}: {string.Join(" ", f.Value)}")), status, detail,
                answer.Fields),
            HttpStatusCode.NotFound => new NotFoundException(message, status, detail),
            >= HttpStatusCode.InternalServerError => new ServerErrorException(message, status, detail),
            _ => new PosternException(message, status, detail, answer.Fields),
        };
    }

    /// <summary><c>Retry-After</c> in seconds or as a date (RFC 9110), null when absent.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    /// <summary>What a JSON error body says, in DRF's shape or allauth's headless one.</summary>
    private sealed record Answer(
        string? Detail, Dictionary<string, IReadOnlyList<string>> Fields, HashSet<string> Codes, bool TwoFactorRequired,
        bool ReauthenticationRequired);

    private static Answer Parse(string body)
    {
        var fields = new Dictionary<string, IReadOnlyList<string>>();
        var codes = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return new(null, fields, codes, false, false);
            string? detail = null;
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == "detail" && property.Value.ValueKind == JsonValueKind.String)
                    detail = property.Value.GetString();
                else if (property.Name == "errors" && root.TryGetProperty("status", out _))
                    detail = AllauthErrors(property.Value, fields, codes);
                else if (property.Value.ValueKind == JsonValueKind.Array)
                    fields[property.Name] = property.Value.EnumerateArray()
                        .Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : m.GetRawText())
                        .ToList();
            }
            var pending = AllauthPendingFlows(root);
            return new(detail, fields, codes,
                TwoFactorRequired: IsTrue(root, "mfa_required") || pending.Contains(AllauthFlows.TwoFactor),
                ReauthenticationRequired: IsTrue(root, "reauthentication_required") || pending.Contains(AllauthFlows.Reauthenticate));
        }
        catch (JsonException)
        {
            return new(null, fields, codes, false, false);
        }
    }

    private static bool IsTrue(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    /// <summary>allauth's errors: the first message is the detail; those naming a <c>param</c> are that field's.</summary>
    private static string? AllauthErrors(JsonElement errors, Dictionary<string, IReadOnlyList<string>> fields, HashSet<string> codes)
    {
        if (errors.ValueKind != JsonValueKind.Array)
            return null;
        string? first = null;
        foreach (var error in errors.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object))
        {
            var text = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : error.GetRawText();
            first ??= text;
            if (error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String)
                codes.Add(code.GetString()!);
            var param = error.TryGetProperty("param", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "non_field_errors";
            fields[param] = [.. fields.GetValueOrDefault(param) ?? [], text];
        }
        return first;
    }

    /// <summary>The ids of allauth's <c>data.flows</c> that are pending (<c>is_pending: true</c>).</summary>
    internal static HashSet<string> AllauthPendingFlows(JsonElement root)
    {
        var pending = new HashSet<string>(StringComparer.Ordinal);
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
            && data.TryGetProperty("flows", out var flows) && flows.ValueKind == JsonValueKind.Array)
        {
            foreach (var flow in flows.EnumerateArray())
            {
                if (flow.ValueKind == JsonValueKind.Object && IsTrue(flow, "is_pending")
                    && flow.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
                    pending.Add(id.GetString()!);
            }
        }
        return pending;
    }
}

/// <summary>The ids of allauth's headless flows that the client acts on.</summary>
internal static class AllauthFlows
{
    public const string TwoFactor = "mfa_authenticate";
    public const string Reauthenticate = "reauthenticate";
}
