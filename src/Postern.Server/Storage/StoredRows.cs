namespace Postern.Server.Storage;

/// <summary>
/// What both SQL stores read and write alike: timestamps as microseconds since the Unix epoch, and the
/// rows Dapper maps query results onto (column names as in the schema; booleans as bool, which Dapper
/// converts from SQLite's integers).
/// </summary>
internal static class StoredRows
{
    public static long Micros(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static DateTimeOffset FromMicros(long micros) => new(DateTimeOffset.UnixEpoch.UtcTicks + (micros * 10), TimeSpan.Zero);

    internal class UserRow
    {
        public long id { get; set; }
        public string username { get; set; } = "";
        public string email { get; set; } = "";
        public string password { get; set; } = "";
        public bool is_active { get; set; }
        public bool is_staff { get; set; }
        public bool is_superuser { get; set; }
        public long date_joined { get; set; }
        public long? last_login { get; set; }

        public User ToUser() => new(id, username, email, password, is_active, is_staff, is_superuser,
            FromMicros(date_joined), last_login is { } l ? FromMicros(l) : null);
    }

    internal sealed class SessionUserRow : UserRow
    {
        public string session_key { get; set; } = "";
        public long user_id { get; set; }
        public string auth_hash { get; set; } = "";
        public long created_at { get; set; }
        public long last_seen_at { get; set; }
        public long expires_at { get; set; }
        public string? user_agent { get; set; }

        public SessionRecord ToSession() => new(session_key, user_id, auth_hash, FromMicros(created_at), FromMicros(last_seen_at), FromMicros(expires_at), user_agent);
    }

    internal sealed class GroupRow
    {
        public long id { get; set; }
        public string name { get; set; } = "";

        public Group ToGroup() => new(id, name);
    }
}
