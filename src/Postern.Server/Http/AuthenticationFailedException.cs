namespace Postern.Server.Http;

/// <summary>
/// DRF's AuthenticationFailed: the request named credentials that do not hold (a bad API token). Answered 401 with
/// <c>{"detail": ...}</c> and <c>WWW-Authenticate: &lt;challenge&gt;</c> wherever it is thrown from: the API renders it
/// itself, anything else by <see cref="ErrorHandlingMiddleware"/>.
/// </summary>
public sealed class AuthenticationFailedException(string detail, string challenge) : Exception(detail)
{
    public string Detail => Message;

    /// <summary>The <c>WWW-Authenticate</c> value: the scheme the client should authenticate with.</summary>
    public string Challenge => challenge;
}
