using System.Net;
using System.Text.Json;

namespace Postern.Client;

/// <summary>Turns a failed response into the typed exception it means, reading DRF's <c>detail</c> and field errors.</summary>
internal static class ErrorMapping
{
    private const string NotAuthenticated = "Authentication credentials were not provided.";

    public static async Task EnsureSuccessAsync(HttpResponseMessage response, bool hadSession, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode && (int)response.StatusCode is not (>= 300 and < 400))
            throw await ToExceptionAsync(response, hadSession, login: false, ct);
    }

    public static async Task<PosternException> ToExceptionAsync(
        HttpResponseMessage response, bool hadSession, bool login, CancellationToken ct)
    {
        var status = response.StatusCode;
        var body = await response.Content.ReadAsStringAsync(ct);
        var (detail, fields) = Parse(body);
        var where = $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}";
        var message = $"{where}: {(int)status} {detail ?? response.ReasonPhrase}";
        if (body.Contains("CSRF Failed", StringComparison.Ordinal) || body.Contains("CSRF verification failed", StringComparison.Ordinal))
            return new CsrfFailedException(message, status, detail ?? "CSRF verification failed.");
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
            HttpStatusCode.BadRequest when fields.Count > 0 => new ValidationException(
                $"{where}: 400 " + string.Join("; ", fields.Select(f => $"{f.Key}: {string.Join(" ", f.Value)}")), status, detail, fields),
            HttpStatusCode.NotFound => new NotFoundException(message, status, detail),
            >= HttpStatusCode.InternalServerError => new ServerErrorException(message, status, detail),
            _ => new PosternException(message, status, detail, fields),
        };
    }

    private static (string? Detail, Dictionary<string, IReadOnlyList<string>> Fields) Parse(string body)
    {
        var fields = new Dictionary<string, IReadOnlyList<string>>();
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return (null, fields);
            string? detail = null;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "detail" && property.Value.ValueKind == JsonValueKind.String)
                    detail = property.Value.GetString();
                else if (property.Value.ValueKind == JsonValueKind.Array)
                    fields[property.Name] = property.Value.EnumerateArray()
                        .Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : m.GetRawText())
                        .ToList();
            }
            return (detail, fields);
        }
        catch (JsonException)
        {
            return (null, fields);
        }
    }
}
