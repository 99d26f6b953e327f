using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Postern.Server.Storage.Sqlite;

/// <summary>
/// A write's own transaction inside <see cref="SqliteGroupCommit"/>'s: a savepoint of the batch's transaction. Committing it
/// keeps its statements in the batch (they are durable once the batch commits, before the caller hears back); rolling it
/// back, or disposing it uncommitted, undoes them alone. Commands made with it run in the batch's transaction
/// (<see cref="StoreCommands.Command"/>).
/// </summary>
internal sealed class SqliteSavepoint : DbTransaction
{
    private const string Name = "postern_transaction";
    private bool _ended;

    public SqliteSavepoint(SqliteTransaction outer)
    {
        Outer = outer;
        outer.Save(Name);
    }

    /// <summary>The batch's transaction, which the provider wants on every command.</summary>
    public SqliteTransaction Outer { get; }

    protected override DbConnection? DbConnection => Outer.Connection;

    public override IsolationLevel IsolationLevel => Outer.IsolationLevel;

    public override void Commit()
    {
        End();
        Outer.Release(Name);
    }

    public override void Rollback()
    {
        End();
        Outer.Rollback(Name);
        Outer.Release(Name);
    }

    public override Task CommitAsync(CancellationToken cancellationToken = default)
    {
        Commit();
        return Task.CompletedTask;
    }

    public override Task RollbackAsync(CancellationToken cancellationToken = default)
    {
        Rollback();
        return Task.CompletedTask;
    }

    private void End()
    {
        if (_ended)
            throw new InvalidOperationException("This transaction has already been committed or rolled back.");
        _ended = true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_ended)
        {
            try
            {
                Rollback();
            }
            catch (SqliteException)
            {
                // The batch's transaction itself is gone: the group commit sees that too, and fails the whole batch.
            }
        }
        base.Dispose(disposing);
    }
}
