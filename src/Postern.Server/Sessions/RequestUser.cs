using Postern.Protocol;
using Postern.Server.Storage;

namespace Postern.Server.Sessions;

/// <summary>Who a request is, and how it proved it: its session (cookie) or an API token; exactly one of the two is set.</summary>
public sealed record Authenticated(User User, SessionRecord? Session, ApiTokenRecord? Token)
{
    public bool ByToken => Token is not null;
}

/// <summary>
/// The one place a request's user is resolved (DRF's request.user over SessionAuthentication and TokenAuthentication). A
/// request whose <c>Authorization</c> header names the Token scheme is its token's user or fails (401, DRF's words), and
/// its session cookie is neither read nor written; any other request is its session's user, or anonymous. Token first when
/// a request names one, as DRF with TokenAuthentication listed first: a script that sends a token means it.
/// </summary>
public sealed class RequestUser(HttpContext context)
{
    private ApiToken.Credentials? _credentials;
    private Task<Authenticated>? _byToken;

    /// <summary>Read on first use only: a request without an Authorization header pays one header lookup, once.</summary>
    private ApiToken.Credentials Credentials => _credentials ??= ApiToken.Read(context.Request.Headers.Authorization.ToString());

    /// <summary>Whether token authentication decides for this request (its Authorization header says "Token ...").</summary>
    public bool CarriesToken => Credentials.IsToken;

    /// <summary>The request's user and how they signed in, or null for an anonymous request.</summary>
    /// <exception cref="Http.AuthenticationFailedException">The request names a token that does not authenticate.</exception>
    public async ValueTask<Authenticated?> GetAsync()
    {
        if (!CarriesToken)
        {
            // Not kept: a login or logout during the request changes the session, which RequestSession tracks.
            return await context.GetRequestSession().GetCurrentAsync() is { } current
                ? new Authenticated(current.User, current.Session, null)
                : null;
        }
        return await (_byToken ??= AuthenticateTokenAsync());
    }

    public async ValueTask<User?> GetUserAsync() => (await GetAsync())?.User;

    /// <summary>The user an API token authenticated, once it has (the request log's user id), without asking anything.</summary>
    internal User? KnownTokenUser => _byToken is { IsCompletedSuccessfully: true } resolved ? resolved.Result.User : null;

    /// <summary>Whether the request is authenticated by an API token (and a valid one: a bad one throws).</summary>
    public async ValueTask<bool> IsByTokenAsync() => CarriesToken && (await GetAsync())!.ByToken;

    private async Task<Authenticated> AuthenticateTokenAsync()
    {
        if (Credentials.Failure is { } failure)
            throw ApiTokenAuthentication.Failed(failure);
        var found = await context.RequestServices.GetRequiredService<ApiTokenAuthentication>()
            .AuthenticateAsync(Credentials.Key!, context.RequestAborted);
        return new Authenticated(found.User, null, found.Token);
    }
}

public static class RequestUserHttpContextExtensions
{
    /// <summary>The request's <see cref="RequestUser"/>, made on first use.</summary>
    public static RequestUser GetRequestUser(this HttpContext context)
    {
        if (context.Features.Get<RequestUser>() is { } existing)
            return existing;
        var created = new RequestUser(context);
        context.Features.Set(created);
        return created;
    }
}
