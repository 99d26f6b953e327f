using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Postern.Server.Storage.Caching;

/// <summary>
/// SQLite's own change counter: <c>PRAGMA data_version</c> on a connection that never writes changes whenever
/// any other connection commits, in this process or another one sharing the file (a second instance, the
/// <c>changepassword</c> command, an operator's sqlite3 shell). One prepared statement, stepped under a lock.
/// </summary>
public sealed class SqliteDataVersion : IStoreChangeSignal, IDisposable
{
    private readonly string _connectionString;
    private readonly Lock _gate = new();
    private SqliteConnection? _connection;
    private sqlite3_stmt? _statement;

    /// <summary>How many times the watching connection was opened: versions of two connections are not comparable.</summary>
    private long _opened;

    // Readers waiting on the lock share one PRAGMA: a read that began after a caller asked answers that caller too.
    private long _asked;
    private long _answeredUpTo;
    private ChangeToken? _answer;

    public SqliteDataVersion(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 2,
        }.ToString();
    }

    public ValueTask<ChangeToken?> CurrentAsync(CancellationToken ct) => ValueTask.FromResult(Read());

    /// <summary>Nothing to do: every commit moves SQLite's data_version by itself.</summary>
    public ValueTask AnnounceAsync(CancellationToken ct) => ValueTask.CompletedTask;

    private ChangeToken? Read()
    {
        var ticket = Interlocked.Increment(ref _asked);
        lock (_gate)
        {
            if (_answeredUpTo >= ticket)
                return _answer;
            _answeredUpTo = Volatile.Read(ref _asked);
            _answer = ReadNow();
            return _answer;
        }
    }

    private ChangeToken? ReadNow()
    {
        try
        {
            _statement ??= Prepare();
            var rc = raw.sqlite3_step(_statement);
            var version = rc == raw.SQLITE_ROW ? raw.sqlite3_column_int64(_statement, 0) : (long?)null;
            raw.sqlite3_reset(_statement);
            if (version is null)
            {
                Close();
                return null;
            }
            return new ChangeToken(_opened, version.Value);
        }
        catch (SqliteException)
        {
            Close();
            return null;
        }
    }

    private sqlite3_stmt Prepare()
    {
        _connection = new SqliteConnection(_connectionString);
        _connection.Open();
        _opened++;
        var rc = raw.sqlite3_prepare_v2(_connection.Handle, "PRAGMA data_version;", out var statement);
        SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        return statement;
    }

    private void Close()
    {
        _statement?.Dispose();
        _statement = null;
        _connection?.Dispose();
        _connection = null;
    }

    public void Dispose()
    {
        lock (_gate)
            Close();
    }
}
