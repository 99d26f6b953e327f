namespace Postern.Server.Storage.Schema;

/// <summary>One step of the schema, written once for both databases; <see cref="Sql"/> fills in what differs.</summary>
/// <param name="Name">What it adds, for readers of this file and of failures.</param>
/// <param name="Sql">The statements, separated by semicolons, run in one transaction.</param>
public sealed record Migration(string Name, Func<SchemaDialect, string> Sql);

/// <summary>
/// The schema as an ordered list of migrations: a database's <c>schema_version</c> records the last one applied (its
/// position, counted from 1), and <see cref="Database.MigrateAsync(CancellationToken)"/> applies the ones after it.
/// Append only: a migration that a database may have seen is never edited (migration 1 writes exactly the tables
/// SQLite's and PostgreSQL's separate schemas wrote before they were merged here).
/// Timestamps are bigint microseconds since the Unix epoch on both, so both compare and round-trip them alike.
/// </summary>
public static class Migrations
{
    public static readonly IReadOnlyList<Migration> All =
    [
        new("users, groups, memberships, sessions, settings", sql => $"""
            CREATE TABLE users (
                id {sql.AutoIncrementId},
                username {sql.Text} NOT NULL UNIQUE,
                email {sql.Text} NOT NULL DEFAULT '',
                password {sql.Text} NOT NULL,
                is_active {sql.Boolean} NOT NULL DEFAULT {sql.True},
                is_staff {sql.Boolean} NOT NULL DEFAULT {sql.False},
                is_superuser {sql.Boolean} NOT NULL DEFAULT {sql.False},
                date_joined {sql.BigInt} NOT NULL,
                last_login {sql.BigInt} NULL
            );
            CREATE TABLE groups (
                id {sql.AutoIncrementId},
                name {sql.Text} NOT NULL UNIQUE
            );
            CREATE TABLE user_groups (
                user_id {sql.BigInt} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                group_id {sql.BigInt} NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
                PRIMARY KEY (user_id, group_id)
            );
            CREATE INDEX user_groups_group ON user_groups(group_id);
            CREATE TABLE sessions (
                session_key {sql.Text} PRIMARY KEY,
                user_id {sql.BigInt} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                auth_hash {sql.Text} NOT NULL,
                created_at {sql.BigInt} NOT NULL,
                last_seen_at {sql.BigInt} NOT NULL,
                expires_at {sql.BigInt} NOT NULL,
                user_agent {sql.Text} NULL
            );
            CREATE INDEX sessions_user ON sessions(user_id);
            CREATE INDEX sessions_expires ON sessions(expires_at);
            CREATE TABLE settings (
                name {sql.Text} PRIMARY KEY,
                value {sql.Text} NOT NULL
            );
            """),
        new("user names; e-mail verifications (every address there was until now set by staff: verified)", sql => $"""
            ALTER TABLE users ADD COLUMN first_name {sql.Text} NOT NULL DEFAULT '';
            ALTER TABLE users ADD COLUMN last_name {sql.Text} NOT NULL DEFAULT '';
            CREATE TABLE email_verifications (
                user_id {sql.BigInt} PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                email {sql.Text} NOT NULL,
                verified_at {sql.BigInt} NOT NULL
            );
            INSERT INTO email_verifications (user_id, email, verified_at) SELECT id, email, date_joined FROM users;
            """),
        // E-mails waiting to be sent (Email/EmailOutboxStore.cs). next_attempt_at is when a row is next due: a claim moves it
        // to the end of the claimer's lease, a failure to the retry's time. Sent rows are deleted; failed ones stay.
        new("email outbox", sql => $"""
            CREATE TABLE email_outbox (
                id {sql.AutoIncrementId},
                from_address {sql.Text} NOT NULL,
                to_address {sql.Text} NOT NULL,
                subject {sql.Text} NOT NULL,
                text_body {sql.Text} NOT NULL,
                html_body {sql.Text} NULL,
                message_id {sql.Text} NOT NULL,
                created_at {sql.BigInt} NOT NULL,
                attempts {sql.BigInt} NOT NULL DEFAULT 0,
                next_attempt_at {sql.BigInt} NOT NULL,
                last_error {sql.Text} NULL,
                failed_at {sql.BigInt} NULL
            );
            CREATE INDEX email_outbox_due ON email_outbox(next_attempt_at) WHERE failed_at IS NULL;
            """),
        // Failed logins counted per key (an account tried, a client address: Throttling/LoginThrottle.cs), shared by every
        // instance. quiet_since is the later of the last failure and the lock's end: the count starts again once a whole
        // window has passed since it.
        new("login throttles", sql => $"""
            CREATE TABLE login_throttles (
                throttle_key {sql.Text} PRIMARY KEY,
                failures {sql.BigInt} NOT NULL,
                quiet_since {sql.BigInt} NOT NULL,
                locked_until {sql.BigInt} NOT NULL DEFAULT 0
            );
            CREATE INDEX login_throttles_quiet ON login_throttles(quiet_since);
            """),
        // Two-factor authentication (TwoFactor/): a user's TOTP secret, sealed with a key derived from the secret key, set up
        // (activated_at null) until a first code confirms it; last_step is the last time step accepted, so that a code is
        // accepted at most once by any instance. Recovery codes are stored as hashes and deleted as they are used.
        new("two-factor authentication", sql => $"""
            CREATE TABLE mfa_totp (
                user_id {sql.BigInt} PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                sealed_secret {sql.Text} NOT NULL,
                created_at {sql.BigInt} NOT NULL,
                activated_at {sql.BigInt} NULL,
                last_step {sql.BigInt} NOT NULL DEFAULT 0
            );
            CREATE TABLE mfa_recovery_codes (
                user_id {sql.BigInt} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                code_hash {sql.Text} NOT NULL,
                created_at {sql.BigInt} NOT NULL,
                PRIMARY KEY (user_id, code_hash)
            );
            """),
        // API tokens (Storage/ApiTokenStore.cs): only a SHA-256 of the key is kept (the key is 160 random bits, so no slow
        // hash is needed), found by it on every token request (the UNIQUE constraint is its index). auth_hash ties a token to
        // the password it was made under, as a session's does.
        new("api tokens", sql => $"""
            CREATE TABLE api_tokens (
                id {sql.AutoIncrementId},
                key_hash {sql.Text} NOT NULL UNIQUE,
                prefix {sql.Text} NOT NULL,
                name {sql.Text} NOT NULL,
                user_id {sql.BigInt} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                auth_hash {sql.Text} NOT NULL,
                created_at {sql.BigInt} NOT NULL,
                last_used_at {sql.BigInt} NULL
            );
            CREATE INDEX api_tokens_user ON api_tokens(user_id);
            """),
        // The audit trail (Audit/): one row per security event, never updated. No foreign key to users: the events of a
        // deleted user are kept (its id and name are copied into the row), and ids are never reused by either database.
        new("audit events", sql => $"""
            CREATE TABLE audit_events (
                id {sql.AutoIncrementId},
                at {sql.BigInt} NOT NULL,
                kind {sql.Text} NOT NULL,
                user_id {sql.BigInt} NULL,
                username {sql.Text} NOT NULL,
                actor {sql.Text} NOT NULL,
                address {sql.Text} NOT NULL,
                user_agent {sql.Text} NOT NULL,
                detail {sql.Text} NOT NULL
            );
            CREATE INDEX audit_events_user ON audit_events(user_id, id);
            CREATE INDEX audit_events_kind ON audit_events(kind, id);
            CREATE INDEX audit_events_at ON audit_events(at);
            """),
        // The read cache's change counter on PostgreSQL without Redis (Caching/PostgresChangeCounter.cs): one row, moved by
        // every announced write. SQLite has the table too (migrations are written once for both) and never uses it.
        new("change counter", sql => $"""
            CREATE TABLE change_counter (
                id {sql.BigInt} PRIMARY KEY,
                counter {sql.BigInt} NOT NULL
            );
            INSERT INTO change_counter (id, counter) VALUES (1, 0);
            """),
        // Writes nobody announces (an operator's UPDATE in psql, another program on the database) move the counter too, in
        // their own transaction: what SQLite's data_version gives for free. Not the writes Postern leaves unannounced on
        // purpose, that no cached read depends on (docs/scale-out.md): a session's last use and sliding expiry, a new
        // session, a user's last_login, a token's last use; so logins and active users do not empty every cache.
        new("change counter triggers (PostgreSQL)", sql => sql.OnPostgresOnly("""
            CREATE FUNCTION postern_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE change_counter SET counter = counter + 1 WHERE id = 1;
                RETURN NULL;
            END $$;
            CREATE TRIGGER users_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF id, username, email, password, is_active,
                is_staff, is_superuser, date_joined, first_name, last_name ON users FOR EACH STATEMENT EXECUTE FUNCTION postern_count_change();
            CREATE TRIGGER groups_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON groups
                FOR EACH STATEMENT EXECUTE FUNCTION postern_count_change();
            CREATE TRIGGER user_groups_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_groups
                FOR EACH STATEMENT EXECUTE FUNCTION postern_count_change();
            CREATE TRIGGER sessions_changed AFTER DELETE OR TRUNCATE OR UPDATE OF session_key, user_id, auth_hash ON sessions
                FOR EACH STATEMENT EXECUTE FUNCTION postern_count_change();
            CREATE TRIGGER email_verifications_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON email_verifications
                FOR EACH STATEMENT EXECUTE FUNCTION postern_count_change();
            CREATE TRIGGER api_tokens_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF id, key_hash, prefix, name, user_id,
                auth_hash, created_at ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION postern_count_change();
            """)),
    ];
}
