using System.Data.Common;
using Postern.Server.Storage.Caching;

using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Storage;

/// <summary>
/// API tokens, in the <c>api_tokens</c> table. The lookup by key hash, which every token request makes, is cached as a
/// session is by its key (found tokens only: anyone can send many unknown keys); creations and revocations are announced,
/// the last-use time is not (each says why).
/// </summary>
public sealed class ApiTokenStore(Database database)
{
    private const string TokenColumns = "id, user_id, name, key_hash, prefix, auth_hash, created_at, last_used_at";
    private const int TokenColumnCount = 8;

    private static readonly CachedQuery ByKeyHash = new("api token with its user by key hash");

    private static ReadKey KeyHashKey(string keyHash) => new(ByKeyHash, Text: keyHash);

    private static readonly string FindByKeyHash =
        $"""
        SELECT t.{TokenColumns.Replace(", ", ", t.", StringComparison.Ordinal)},
               u.{UserColumns.Replace(", ", ", u.", StringComparison.Ordinal)}
        FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.key_hash = @keyHash;
        """;

    private static ApiTokenRecord ReadToken(DbDataReader row) => new(
        row.GetInt64(0),
        row.GetInt64(1),
        row.GetString(2),
        row.GetString(3),
        row.GetString(4),
        row.GetString(5),
        FromMicros(row.GetInt64(6)),
        row.IsDBNull(7) ? null : FromMicros(row.GetInt64(7)));

    /// <summary>The token whose key hashes to <paramref name="keyHash"/>, with its user; one indexed query, then memory.</summary>
    public Task<ApiTokenWithUser?> FindByKeyHashAsync(string keyHash, CancellationToken ct = default) =>
        database.ReadCachedAsync(KeyHashKey(keyHash), db =>
                db.Command(FindByKeyHash).With("@keyHash", keyHash)
                    .ReadFirstOrDefaultAsync(row => new ApiTokenWithUser(ReadToken(row), ReadUser(row, TokenColumnCount))),
            ct, keepIf: static found => found is not null);

    /// <summary>
    /// Not announced: no cache anywhere can hold a brand-new key (unknown keys are never cached) and lists of tokens are read
    /// past the cache, as a new session is not announced.
    /// </summary>
    /// <exception cref="MissingReferenceException">The user was deleted meanwhile; nothing changed.</exception>
    public Task<ApiTokenRecord> CreateAsync(ApiTokenRecord token, CancellationToken ct = default) =>
        database.WriteWithoutAnnouncingAsync(async db =>
    {
        try
        {
            var id = await db.Command(
                    """
                    INSERT INTO api_tokens (user_id, name, key_hash, prefix, auth_hash, created_at, last_used_at)
                    VALUES (@userId, @name, @keyHash, @prefix, @authHash, @created, NULL) RETURNING id;
                    """)
                .With("@userId", token.UserId).With("@name", token.Name).With("@keyHash", token.KeyHash)
                .With("@prefix", token.Prefix).With("@authHash", token.AuthHash).With("@created", Micros(token.CreatedAt))
                .ReadInt64Async();
            return token with { Id = id };
        }
        catch (DbException e) when (database.IsForeignKeyViolation(e))
        {
            throw new MissingReferenceException(e);
        }
    }, ct);

    /// <summary>Not cached: shown rarely, and their last-use times would lag. Of one user, or with a null user everyone's.</summary>
    public Task<long> CountAsync(long? userId, CancellationToken ct = default) =>
        database.ReadAsync(db => OfUser(db.Command($"SELECT COUNT(*) FROM api_tokens{WhereUser(userId)};"), userId).ReadInt64Async(), ct);

    /// <summary>A page of tokens in id order: of one user, or with a null <paramref name="userId"/> everyone's.</summary>
    public Task<IReadOnlyList<ApiTokenRecord>> ListAsync(long? userId, int offset, int limit, CancellationToken ct = default) =>
        database.ReadAsync(async db => (IReadOnlyList<ApiTokenRecord>)await OfUser(db.Command(
                    $"SELECT {TokenColumns} FROM api_tokens{WhereUser(userId)} ORDER BY id LIMIT @limit OFFSET @offset;"), userId)
                .With("@limit", limit).With("@offset", offset).ReadAllAsync(ReadToken), ct);

    // Two statements rather than "@userId IS NULL OR ...", so that a user's list reads the user_id index.
    private static string WhereUser(long? userId) => userId is null ? "" : " WHERE user_id = @userId";

    private static DbCommand OfUser(DbCommand command, long? userId) => userId is { } id ? command.With("@userId", id) : command;

    public Task<ApiTokenRecord?> FindByIdAsync(long id, CancellationToken ct = default) =>
        database.ReadAsync(db => db.Command($"SELECT {TokenColumns} FROM api_tokens WHERE id = @id;").With("@id", id)
            .ReadFirstOrDefaultAsync(ReadToken), ct);

    /// <summary>Announced: every instance that holds the token in its cache must stop accepting it at once.</summary>
    public Task<bool> DeleteAsync(long id, CancellationToken ct = default) =>
        database.WriteAsync(async db => await db.Command("DELETE FROM api_tokens WHERE id = @id;").With("@id", id).ExecuteAsync() > 0, ct);

    /// <summary>
    /// Only when the token was last used more than a minute ago: nothing another instance caches depends on it (the
    /// lookup by key ignores it), so it is not announced. This instance's copy is updated so it does not write again at once.
    /// </summary>
    public async Task TouchAsync(ApiTokenRecord token, DateTimeOffset lastUsedAt, CancellationToken ct = default)
    {
        await database.WriteWithoutAnnouncingAsync(db =>
            db.Command("UPDATE api_tokens SET last_used_at = @used WHERE id = @id;")
                .With("@id", token.Id).With("@used", Micros(lastUsedAt)).ExecuteAsync(), ct);
        database.UpdateCached<ApiTokenWithUser>(KeyHashKey(token.KeyHash),
            found => found with { Token = found.Token with { LastUsedAt = lastUsedAt } });
    }

    // ---- beside Django: Django REST framework's own tokens (rest_framework.authtoken)

    /// <summary>The id a DRF token is shown with: it has none of Postern's, and Postern never touches or ends it.</summary>
    public const long DjangoTokenId = 0;

    private static readonly CachedQuery DjangoTokenByKey = new("Django REST framework token with its user by key");

    /// <summary>Whether the Django project has DRF's authtoken table: 0 not asked yet, 1 yes, -1 no.</summary>
    private int _djangoTokens;

    /// <summary>
    /// Beside Django, the token of DRF's <c>authtoken_token</c> with this key (DRF keeps keys in the clear) and its user; null
    /// in Postern's own schema, in a project without DRF's authtoken app, and for an unknown key (not cached: anyone can
    /// send many). A change on Django's side is seen as any of Django's writes is (Django/DjangoSchema.cs).
    /// </summary>
    public async Task<DjangoToken?> FindDjangoTokenAsync(string key, CancellationToken ct = default)
    {
        if (database.Schema != Schema.StorageSchema.Django || !await HasDjangoTokensAsync(ct))
            return null;
        return await database.ReadCachedAsync(new ReadKey(DjangoTokenByKey, Text: key), db => db.Command(
                    $"""
                    SELECT t.created, u.{UserColumns.Replace(", ", ", u.", StringComparison.Ordinal)}
                    FROM authtoken_token t JOIN users u ON u.id = t.user_id WHERE t.key = @key;
                    """)
                .With("@key", key).ReadFirstOrDefaultAsync(static row => new DjangoToken(ReadUser(row, 1), ReadDjangoTime(row.GetValue(0)))),
            ct, keepIf: static found => found is not null);
    }

    private async Task<bool> HasDjangoTokensAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _djangoTokens) is not 0 and var known)
            return known > 0;
        var exists = await database.ReadAsync(async db => await db.Command(database.IsPostgres
                ? "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'authtoken_token' AND schemaname = current_schema();"
                : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'authtoken_token';").ReadInt64Async() > 0, ct);
        Volatile.Write(ref _djangoTokens, exists ? 1 : -1);
        return exists;
    }

    /// <summary>Ends every token of the user, in the caller's transaction (a password change).</summary>
    internal static DbCommand DeleteTokensOfUser(DbConnection db, DbTransaction? tx, long userId) =>
        db.Command("DELETE FROM api_tokens WHERE user_id = @userId;", tx).With("@userId", userId);
}

/// <summary>A token of Django REST framework's own (<c>authtoken_token</c>), beside Django: its user and when it was made.</summary>
public sealed record DjangoToken(User User, DateTimeOffset Created);
