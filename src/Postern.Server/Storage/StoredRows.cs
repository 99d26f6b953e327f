using System.Data.Common;

namespace Postern.Server.Storage;

/// <summary>
/// What both SQL stores read and write alike: timestamps as microseconds since the Unix epoch, and how a
/// row becomes a record. Each reader takes its columns by position, in the order of the column list next
/// to it (no name lookups per row); booleans through GetBoolean, which also reads SQLite's 0/1 integers.
/// </summary>
internal static class StoredRows
{
    public static long Micros(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static DateTimeOffset FromMicros(long micros) => new(DateTimeOffset.UnixEpoch.UtcTicks + (micros * 10), TimeSpan.Zero);

    /// <summary>
    /// A user's date_joined or last_login: microseconds in Postern's schema; beside Django, Django's own datetime (PostgreSQL's
    /// timestamptz, or SQLite's text), told apart by the column's type.
    /// </summary>
    public static DateTimeOffset ReadUserTime(DbDataReader row, int ordinal) =>
        row.GetFieldType(ordinal) == typeof(long) ? FromMicros(row.GetInt64(ordinal)) : ReadDjangoTime(row.GetValue(ordinal));

    /// <summary>
    /// A datetime as Django stored it: PostgreSQL's timestamptz arrives as a UTC DateTime; SQLite holds text such as
    /// <c>2026-12-04 10:00:00.123456</c>, in UTC when USE_TZ is on (the default since Django 5.0, and in every project
    /// template before it), which is what Postern assumes.
    /// </summary>
    public static DateTimeOffset ReadDjangoTime(object value) => value switch
    {
        DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
        DateTimeOffset time => time.ToUniversalTime(),
        string text => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal),
        _ => throw new FormatException($"Not a Django datetime: {value}"),
    };

    /// <summary>
    /// A time as Django's SQLite backend writes it with USE_TZ: naive UTC, Python's <c>str(datetime)</c>, whose fraction is
    /// left out when it is zero. Django compares these as text, and so does every statement on them.
    /// </summary>
    public static string DjangoText(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        // Django keeps microseconds; a tick is a tenth of one.
        utc = utc.AddTicks(-(utc.Ticks % 10));
        return utc.ToString(utc.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm:ss.ffffff",
            System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The columns <see cref="ReadUser"/> reads, in its order.</summary>
    public const string UserColumns = "id, username, email, password, is_active, is_staff, is_superuser, date_joined, last_login, first_name, last_name";

    /// <summary>A user from <see cref="UserColumns"/>, starting at column <paramref name="first"/>.</summary>
    public static User ReadUser(DbDataReader row, int first) => new(
        row.GetInt64(first),
        row.GetString(first + 1),
        row.GetString(first + 2),
        row.GetString(first + 3),
        row.GetBoolean(first + 4),
        row.GetBoolean(first + 5),
        row.GetBoolean(first + 6),
        ReadUserTime(row, first + 7),
        row.IsDBNull(first + 8) ? null : ReadUserTime(row, first + 8),
        row.GetString(first + 9),
        row.GetString(first + 10));

    public static User ReadUser(DbDataReader row) => ReadUser(row, 0);

    /// <summary>The columns <see cref="ReadSession"/> reads, in its order.</summary>
    public const string SessionColumns = "session_key, user_id, auth_hash, created_at, last_seen_at, expires_at, user_agent";

    /// <summary>How many columns <see cref="ReadSession"/> reads: a user joined to the session follows them.</summary>
    public const int SessionColumnCount = 7;

    public static SessionRecord ReadSession(DbDataReader row) => new(
        row.GetString(0),
        row.GetInt64(1),
        row.GetString(2),
        FromMicros(row.GetInt64(3)),
        FromMicros(row.GetInt64(4)),
        FromMicros(row.GetInt64(5)),
        row.IsDBNull(6) ? null : row.GetString(6));

    /// <summary>A session and its user, from <see cref="SessionColumns"/> followed by <see cref="UserColumns"/>.</summary>
    public static SessionWithUser ReadSessionWithUser(DbDataReader row) => new(ReadSession(row), ReadUser(row, SessionColumnCount));

    /// <summary>A group from <c>id, name</c>.</summary>
    public static Group ReadGroup(DbDataReader row) => new(row.GetInt64(0), row.GetString(1));

    /// <summary>The first column as a long: an id.</summary>
    public static long ReadId(DbDataReader row) => row.GetInt64(0);
}
