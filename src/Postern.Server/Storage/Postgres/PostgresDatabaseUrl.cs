using Npgsql;

namespace Postern.Server.Storage.Postgres;

/// <summary>The <c>postgres://user:password@host:port/name</c> form of <c>--db</c> / <c>POSTERN_DB</c>.</summary>
public static class PostgresDatabaseUrl
{
    /// <summary>Whether <paramref name="database"/> names a PostgreSQL database rather than a SQLite file.</summary>
    public static bool IsPostgres(string database) =>
        database.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
        database.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Seconds to wait for a connection to open (Npgsql's own default is 15): an unreachable database is a prompt 503.</summary>
    public const int DefaultConnectTimeoutSeconds = 5;

    /// <summary>
    /// Seconds a statement may run (Npgsql's default is 30): Postern's are small, so a longer one means a database that
    /// stopped answering.
    /// </summary>
    public const int DefaultCommandTimeoutSeconds = 10;

    /// <summary>
    /// Seconds of idleness after which a pooled connection is probed, so one the server or network dropped is discarded
    /// before a request takes it.
    /// </summary>
    public const int DefaultKeepaliveSeconds = 30;

    /// <summary>
    /// An Npgsql connection string; query parameters (<c>?sslmode=require</c>) become its keywords and override
    /// the defaults above (<c>?Timeout=15&amp;Command%20Timeout=30&amp;Keepalive=0</c> restores Npgsql's).
    /// </summary>
    /// <exception cref="FormatException">The URL is not a usable PostgreSQL URL.</exception>
    public static string ToConnectionString(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new FormatException("A PostgreSQL URL looks like postgres://user:password@host:port/name.");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Timeout = DefaultConnectTimeoutSeconds,
            CommandTimeout = DefaultCommandTimeoutSeconds,
            KeepAlive = DefaultKeepaliveSeconds,
        };
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
            builder.Database = database;
        if (uri.UserInfo.Length > 0)
        {
            // Split before decoding: an encoded ':' (%3A) belongs to the user name or password.
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            builder[key] = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
        }
        return builder.ConnectionString;
    }

    /// <summary>The URL without its password, for messages.</summary>
    public static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal)
            ? url.Replace(
                uri.UserInfo, uri.UserInfo[..uri.UserInfo.IndexOf(':', StringComparison.Ordinal)] + ":***", StringComparison.Ordinal)
            : url;
}
