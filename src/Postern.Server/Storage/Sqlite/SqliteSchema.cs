namespace Postern.Server.Storage.Sqlite;

/// <summary>The schema as numbered migrations; a database records the last one applied.</summary>
internal static class SqliteSchema
{
    public static readonly string[] Migrations =
    [
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            username TEXT NOT NULL UNIQUE,
            email TEXT NOT NULL DEFAULT '',
            password TEXT NOT NULL,
            is_active INTEGER NOT NULL DEFAULT 1,
            is_staff INTEGER NOT NULL DEFAULT 0,
            is_superuser INTEGER NOT NULL DEFAULT 0,
            date_joined INTEGER NOT NULL,
            last_login INTEGER NULL
        );
        CREATE TABLE groups (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE
        );
        CREATE TABLE user_groups (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
            PRIMARY KEY (user_id, group_id)
        );
        CREATE INDEX user_groups_group ON user_groups(group_id);
        CREATE TABLE sessions (
            session_key TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            auth_hash TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            last_seen_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            user_agent TEXT NULL
        );
        CREATE INDEX sessions_user ON sessions(user_id);
        CREATE INDEX sessions_expires ON sessions(expires_at);
        CREATE TABLE settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    ];
}
