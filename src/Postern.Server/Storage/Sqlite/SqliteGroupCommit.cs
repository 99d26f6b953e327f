using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Postern.Server.Storage.Schema;

namespace Postern.Server.Storage.Sqlite;

/// <summary>
/// Group commit, the way database servers make many small durable writes cheap: this process's writes queue here and run
/// one after another on one connection, as many as are waiting in one transaction, each inside a savepoint of its own.
/// Every caller hears back only after the COMMIT that holds its write has returned, and with <c>synchronous=FULL</c> (SQLite's
/// default, kept) that COMMIT has synced the WAL: a write is as durable as one committed alone, but 32 of them share one
/// fsync instead of paying one each. The fsync, not the statements, is what a small write costs (about 0.7 ms here).
/// </summary>
/// <remarks>
/// <para>
/// A write that throws is rolled back to its savepoint and its caller gets the exception; the others in the transaction are
/// untouched, as if each had been committed alone. A write's own transaction (<see cref="SqliteDialect.BeginWriteAsync"/>) is
/// a nested savepoint (<see cref="SqliteSavepoint"/>). If the transaction as a whole fails (the disk is full, the file went
/// away), every write in it fails with that error, and none of them was committed. If only its COMMIT fails, on a deferred
/// constraint, each of its writes runs again alone: a write must therefore do nothing but statements on its connection until
/// it returns (what it changes elsewhere, it changes after).
/// </para>
/// <para>
/// It also keeps SQLite's own lock polling out of the way: a writer that finds the file locked sleeps up to 100 ms between
/// tries, and under a burst of writes in one process that was slow and unfair (a p99 of hundreds of ms). Writers in other
/// processes on the same file (a second instance, the CLI, a Django project beside Postern) still meet at SQLite's lock.
/// </para>
/// </remarks>
internal sealed class SqliteGroupCommit : IAsyncDisposable
{
    /// <summary>
    /// At most this many writes share a transaction by default (<c>Postern:Storage:SqliteWritesPerCommit</c>), so that a long
    /// queue still commits, and answers, in steps.
    /// </summary>
    public const int DefaultWritesPerCommit = 64;

    private readonly int _writesPerCommit;

    private readonly Func<CancellationToken, Task<DbConnection>> _open;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly Lock _starting = new();
    private Task? _loop;
    private SqliteConnection? _connection;
    private SqliteTransaction? _transaction;

    /// <param name="open">Opens the connection the writes run on (kept open between batches).</param>
    /// <param name="writesPerCommit">At most this many writes to a transaction; 1 commits each alone.</param>
    public SqliteGroupCommit(Func<CancellationToken, Task<DbConnection>> open, int writesPerCommit = DefaultWritesPerCommit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writesPerCommit, 1);
        _open = open;
        _writesPerCommit = writesPerCommit;
    }

    /// <summary>Runs <paramref name="write"/> in the next transaction; completes once that transaction has committed.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled before the write's turn came.</exception>
    public Task<T> RunAsync<T>(Func<DbConnection, Task<T>> write, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var pending = new PendingWrite<T>(write, TableNames.Current, ct);
        EnsureStarted();
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);
        return pending.Task;
    }

    /// <summary>
    /// The batch's transaction while <paramref name="db"/> is the connection a queued write runs on; null for any other
    /// connection (a migration's, a read's).
    /// </summary>
    public SqliteTransaction? TransactionOf(DbConnection db) => ReferenceEquals(db, _connection) ? _transaction : null;

    private void EnsureStarted()
    {
        if (_loop is not null)
            return;
        lock (_starting)
        {
            if (_loop is not null)
                return;
            // Not the first caller's context (its request's activity, its table names): each write brings its own.
            using (ExecutionContext.SuppressFlow())
                _loop = Task.Run(RunLoopAsync);
        }
    }

    private async Task RunLoopAsync()
    {
        var batch = new List<PendingWrite>(_writesPerCommit);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _writesPerCommit && reader.TryRead(out var pending))
            {
                if (pending.CancellationToken.IsCancellationRequested)
                    pending.Cancel();
                else
                    batch.Add(pending);
            }
            if (batch.Count > 0)
                await CommitAsync(batch);
        }
        await CloseAsync();
    }

    private async Task CommitAsync(List<PendingWrite> batch)
    {
        SqliteConnection db;
        try
        {
            db = (SqliteConnection)(_connection ??= (SqliteConnection)await _open(CancellationToken.None));
            // BEGIN IMMEDIATE: the write lock up front, so that a writer in another process queues instead of deadlocking.
            _transaction = db.BeginTransaction(deferred: false);
        }
        catch (Exception e)
        {
            await CloseAsync();
            foreach (var pending in batch)
                pending.Fail(e);
            return;
        }

        var written = new List<PendingWrite>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            var pending = batch[i];
            try
            {
                _transaction.Save(WriteSavepoint);
            }
            catch (Exception e)
            {
                await AbandonAsync(batch, written, from: i, e);
                return;
            }
            try
            {
                await pending.RunAsync(db);
                _transaction.Release(WriteSavepoint);
                written.Add(pending);
            }
            catch (Exception failure)
            {
                try
                {
                    _transaction.Rollback(WriteSavepoint);
                    _transaction.Release(WriteSavepoint);
                }
                catch (Exception e)
                {
                    // The transaction itself is gone (SQLite rolls it back on some I/O errors): nothing in it stands.
                    pending.Fail(failure);
                    await AbandonAsync(batch, written, from: i + 1, e);
                    return;
                }
                pending.Fail(failure);
            }
        }

        try
        {
            _transaction.Commit();
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            // A deferred constraint (Django's foreign keys are DEFERRABLE INITIALLY DEFERRED) is checked at COMMIT, which cannot
            // say whose write broke it: the batch is undone and each of its writes runs again, alone, as it would have run
            // without group commit, so that only the one that broke it fails, and through its own transaction's commit.
            _transaction.Rollback();
            _transaction.Dispose();
            _transaction = null;
            foreach (var pending in written)
                await RunAloneAsync(db, pending);
            return;
        }
        catch (Exception e)
        {
            await AbandonAsync(batch, written, from: batch.Count, e);
            return;
        }
        _transaction.Dispose();
        _transaction = null;
        foreach (var pending in written)
            pending.Complete();
    }

    /// <summary>Runs a write outside any batch: its own transaction, if it begins one, is a real one.</summary>
    private static async Task RunAloneAsync(SqliteConnection db, PendingWrite pending)
    {
        try
        {
            await pending.RunAsync(db);
        }
        catch (Exception e)
        {
            pending.Fail(e);
            return;
        }
        pending.Complete();
    }

    /// <summary>Fails the writes that had run (none of them is committed) and those not yet run, and starts afresh.</summary>
    private async Task AbandonAsync(List<PendingWrite> batch, List<PendingWrite> written, int from, Exception error)
    {
        foreach (var pending in written)
            pending.Fail(error);
        for (var i = from; i < batch.Count; i++)
            batch[i].Fail(error);
        await CloseAsync();
    }

    private async Task CloseAsync()
    {
        try
        {
            _transaction?.Dispose();
        }
        catch (SqliteException)
        {
            // The rollback of a transaction SQLite already ended: the connection goes anyway.
        }
        _transaction = null;
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync();
        }
    }

    private const string WriteSavepoint = "postern_write";
    private const int SqliteConstraint = 19;

    /// <summary>Lets the writes already queued finish, then closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_loop is { } loop)
            await loop;
    }

    /// <summary>A queued write: what it runs, and its caller's answer, given only once its transaction has committed.</summary>
    private abstract class PendingWrite(TableNames? tables, CancellationToken ct)
    {
        public CancellationToken CancellationToken { get; } = ct;

        public async Task RunAsync(DbConnection db)
        {
            // In this method alone: the statements the write makes mean its caller's tables.
            tables?.TakeEffect();
            await RunWriteAsync(db);
        }

        protected abstract Task RunWriteAsync(DbConnection db);

        public abstract void Complete();

        public abstract void Fail(Exception error);

        public abstract void Cancel();
    }

    private sealed class PendingWrite<T>(Func<DbConnection, Task<T>> write, TableNames? tables, CancellationToken ct)
        : PendingWrite(tables, ct)
    {
        private readonly TaskCompletionSource<T> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _answer.Task;

        protected override async Task RunWriteAsync(DbConnection db) => _result = await write(db);

        public override void Complete() => _answer.TrySetResult(_result);

        public override void Fail(Exception error) => _answer.TrySetException(error);

        public override void Cancel() => _answer.TrySetCanceled(CancellationToken);
    }
}
