using System.Globalization;
using System.Net;
using Postern.Client;

namespace Postern.Cli;

/// <summary>What a failed command prints (one line on stderr, DRF's <c>detail</c> or field errors first) and exits with.</summary>
public sealed record Failure(int ExitCode, string Message)
{
    /// <param name="resumed">The session came from a file: a "not logged in" refusal then means it expired.</param>
    public static Failure From(PosternException error, bool resumed) => error switch
    {
        TransportException => new(ExitCodes.TransportFailure, error.Message),
        InvalidTokenException => new(ExitCodes.ClientError,
            $"{Where(error)}: API token refused: {error.Detail ?? "Invalid token."} (make a new one, then postern login BASE_URL --token)"),
        SessionExpiredException => Expired(),
        NotAuthenticatedException when resumed => Expired(),
        NotAuthenticatedException =>
            new(ExitCodes.ClientError, $"{Where(error)}: {error.Detail ?? "not logged in"} (run postern login BASE_URL USERNAME)"),
        InvalidCredentialsException => new(ExitCodes.ClientError, $"login failed: {error.Detail ?? error.Message}"),
        ThrottledException throttled => new(ExitCodes.ClientError, Describe(error) + (throttled.RetryAfter is { } wait
            ? string.Create(CultureInfo.InvariantCulture, $" (try again in {Math.Ceiling(wait.TotalSeconds)} s)")
            : " (try again later)")),
        LogoutNotConfirmedException or TwoFactorRequiredException or ReauthenticationRequiredException =>
            new(ExitCodes.ClientError, error.Message),
        { Status: >= HttpStatusCode.InternalServerError } => new(ExitCodes.ServerError, Describe(error)),
        { Status: >= HttpStatusCode.BadRequest } => new(ExitCodes.ClientError, Describe(error)),
        _ => new(ExitCodes.Usage, error.Message),
    };

    private static Failure Expired() => new(ExitCodes.ClientError, "session expired: run postern login again");

    /// <summary>
    /// <c>GET http://host/api/users/: 403 Forbidden: You do not have permission to perform this action.</c>, or
    /// <c>POST http://host/api/groups/: 400 Bad Request: name: This field is required.</c>: the request that failed first.
    /// </summary>
    private static string Describe(PosternException error)
    {
        var explanation = error.FieldErrors.Count > 0
            ? string.Join("; ", error.FieldErrors.Select(f => $"{f.Key}: {string.Join(" ", f.Value)}"))
            : error.Detail;
        return explanation is null ? Where(error) : $"{Where(error)}: {explanation}";
    }

    private static string Where(PosternException error) => error.Request is { } request ? $"{request}: {Status(error)}" : Status(error);

    private static string Status(PosternException error) =>
        error.Status is { } status ? string.Create(CultureInfo.InvariantCulture, $"{(int)status} {StatusText.Reason(status)}") : "failed";
}
