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
            $"{Status(error)}: API token refused: {error.Detail ?? "Invalid token."} (make a new one, then postern login BASE_URL --token)"),
        SessionExpiredException => Expired(),
        NotAuthenticatedException when resumed => Expired(),
        NotAuthenticatedException =>
            new(ExitCodes.ClientError, $"{Status(error)}: {error.Detail ?? "not logged in"} (run postern login BASE_URL USERNAME)"),
        InvalidCredentialsException when error.Status is null or < HttpStatusCode.BadRequest =>
            new(ExitCodes.ClientError, $"login failed: {error.Detail ?? error.Message}"),
        { Status: >= HttpStatusCode.InternalServerError } => new(ExitCodes.ServerError, Describe(error)),
        { Status: >= HttpStatusCode.BadRequest } => new(ExitCodes.ClientError, Describe(error)),
        _ => new(ExitCodes.Usage, error.Message),
    };

    private static Failure Expired() => new(ExitCodes.ClientError, "session expired: run postern login again");

    /// <summary>
    /// <c>403 Forbidden: You do not have permission to perform this action.</c>, or
    /// <c>400 Bad Request: name: This field is required.</c>
    /// </summary>
    private static string Describe(PosternException error)
    {
        var explanation = error.FieldErrors.Count > 0
            ? string.Join("; ", error.FieldErrors.Select(f => $"{f.Key}: {string.Join(" ", f.Value)}"))
            : error.Detail;
        return explanation is null ? Status(error) : $"{Status(error)}: {explanation}";
    }

    private static string Status(PosternException error) =>
        error.Status is { } status ? string.Create(CultureInfo.InvariantCulture, $"{(int)status} {StatusText.Reason(status)}") : "failed";
}
