using System.ComponentModel.DataAnnotations;
using Postern.Server.Storage.Schema;

namespace Postern.Server.Storage;


/// <summary>Where the data lives (<c>Postern:Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Postern:Storage";

    /// <summary>
    /// A SQLite file path, or a PostgreSQL URL <c>postgres://user:password@host:port/name</c>. <c>--db</c> and
    /// <c>POSTERN_DB</c> set it too.
    /// </summary>
    [Required]
    public string Database { get; set; } = "postern.sqlite3";

    /// <summary>
    /// Whose tables hold the users and sessions: <c>Postern</c> (its own, the default) or <c>Django</c> (a Django project's
    /// database, shared with it as it runs: docs/deployment.md#beside-django). <c>--schema</c> and <c>POSTERN_SCHEMA</c> set it too.
    /// </summary>
    public StorageSchema Schema { get; set; } = StorageSchema.Postern;

    /// <summary>
    /// On SQLite, at most this many of the writes waiting at once share one durable commit (group commit:
    /// docs/deployment.md#writes-on-sqlite). 1 commits each write alone, one fsync each, as before group commit.
    /// </summary>
    [Range(1, 1000)]
    public int SqliteWritesPerCommit { get; set; } = Sqlite.SqliteGroupCommit.DefaultWritesPerCommit;
}

/// <summary>Beside a Django project (<c>Postern:Django</c>, with <c>Postern:Storage:Schema</c> = <c>Django</c>).</summary>
public sealed class DjangoOptions
{
    public const string Section = "Postern:Django";

    /// <summary>
    /// The table of the project's user model: Django's <c>auth_user</c>, or a custom model's with <c>AbstractUser</c>'s columns
    /// (its groups in <c>{table}_groups</c>, as Django names them).
    /// </summary>
    [RegularExpression("^[A-Za-z_][A-Za-z0-9_]{0,62}$", ErrorMessage = "Postern:Django:UserTable must be a plain table name.")]
    public string UserTable { get; set; } = "auth_user";
}

/// <summary>Redis (<c>Postern:Redis</c>): lets instances that share a PostgreSQL database cache what they read.</summary>
public sealed class RedisOptions
{
    public const string Section = "Postern:Redis";

    /// <summary>
    /// A StackExchange.Redis configuration string, e.g. <c>redis:6379</c>. <c>--redis</c> and <c>POSTERN_REDIS</c> set
    /// it too.
    /// </summary>
    public string? Configuration { get; set; }
}

/// <summary>The in-process read cache (<c>Postern:Cache</c>).</summary>
public sealed class CacheOptions
{
    public const string Section = "Postern:Cache";

    /// <summary>
    /// Cache sessions, users and groups in memory, kept exact by a change counter: SQLite's own (which reports every commit,
    /// from any process), Redis's when configured, else one in PostgreSQL (docs/scale-out.md).
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Cached results per instance; a full cache starts over.</summary>
    [Range(1, 10_000_000)]
    public int MaxEntries { get; set; } = 50_000;

    /// <summary>
    /// How long a cached result may be kept even when no change is seen: the bound on staleness if Redis is cut off
    /// from one instance only.
    /// </summary>
    [Range(1, 3600)]
    public int MaxAgeSeconds { get; set; } = 30;
}
