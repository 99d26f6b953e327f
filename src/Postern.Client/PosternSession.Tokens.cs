namespace Postern.Client;

/// <summary>
/// An API token as <c>/api/tokens/</c> shows it; <see cref="Key"/> only in the answer to its creation (the backend keeps
/// a hash of it, never the key).
/// </summary>
public sealed record ApiTokenInfo(
    string Url, string Name, string Prefix, string? User, DateTimeOffset Created, DateTimeOffset? LastUsed, string? Key = null);

/// <summary>API tokens (docs/api.md): made by a signed-in session, used by clients that are not browsers.</summary>
public sealed partial class PosternSession
{
    /// <summary>
    /// Makes a named API token for the signed-in user. Its <see cref="ApiTokenInfo.Key"/> is in this answer only: keep it
    /// (and pass it to <see cref="WithToken"/> or <see cref="PosternClientOptions.ApiToken"/>).
    /// </summary>
    /// <exception cref="PermissionDeniedException">This session is itself authenticated by a token: tokens cannot make tokens.</exception>
    /// <exception cref="ValidationException">No name, or a name over 100 characters.</exception>
    public Task<ApiTokenInfo> CreateTokenAsync(string name, CancellationToken ct = default) =>
        PostAsync<ApiTokenInfo>(_options.TokensPath, new { name }, ct);

    /// <summary>The user's tokens (staff: everyone's), every page, without their keys.</summary>
    public IAsyncEnumerable<ApiTokenInfo> ListTokensAsync(CancellationToken ct = default) =>
        PaginateAsync<ApiTokenInfo>(_options.TokensPath, ct);

    /// <summary>Revokes a token at once, named by its <c>url</c> or its id.</summary>
    /// <exception cref="NotFoundException">No such token among those this user may see.</exception>
    public Task RevokeTokenAsync(string urlOrId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(urlOrId);
        return DeleteAsync(urlOrId.All(char.IsAsciiDigit) ? $"{_options.TokensPath.TrimEnd('/')}/{urlOrId}/" : urlOrId, ct);
    }
}
