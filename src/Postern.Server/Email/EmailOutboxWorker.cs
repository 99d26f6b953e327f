using Microsoft.Extensions.Options;
using Postern.Server.Storage;

namespace Postern.Server.Email;

/// <summary>
/// Sends what the outbox holds: whenever this instance enqueues an e-mail (<see cref="EmailOutboxSignal"/>), and every
/// <c>PollIntervalSeconds</c> for e-mails enqueued by other instances, due for another attempt, or left behind by an instance
/// that died while sending. Each e-mail is claimed before it is sent (<see cref="EmailOutboxStore"/>), so with several
/// instances on one database each is sent once. A failed attempt is retried after an exponential back-off; after
/// <c>MaxAttempts</c> the e-mail stays in the table, marked failed, and the log says so at Error.
/// </summary>
/// <remarks>
/// A hosted service, so it runs while the host runs: in <c>serve</c>, not in the administration commands, which build the
/// services but never start the host.
/// </remarks>
public sealed class EmailOutboxWorker(
    EmailOutboxStore store, IEmailTransport transport, EmailOutboxSignal signal, IOptions<EmailOptions> options, TimeProvider time,
    ILogger<EmailOutboxWorker> logger, Observability.PosternMetrics? metrics = null) : BackgroundService
{
    private readonly EmailOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.EmailGoesTo(transport.Description);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await store.ClaimNextAsync(time.GetUtcNow(), _options.ClaimLease, stoppingToken) is { } email)
                {
                    // After a failed attempt the round ends: while the server is away, trying every other e-mail now would
                    // only spend their attempts. The next poll goes on with whatever is due, the failed one after its back-off.
                    if (!await SendAsync(email, stoppingToken))
                        break;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (StoreUnavailableException e)
            {
                logger.OutboxUnavailable(e);
            }
            catch (Exception e)
            {
                // A bug must not stop the host, nor spin: it is logged, and the outbox looked at again at the next poll.
                logger.OutboxFailed(e);
            }
            try
            {
                await signal.WaitAsync(_options.PollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Tries <paramref name="email"/> once; false if that attempt failed and may be tried again later.</summary>
    private async Task<bool> SendAsync(OutboxEmail email, CancellationToken stoppingToken)
    {
        if (email.Attempts > _options.MaxAttempts)
        {
            // Its last attempt's claimer died before it could say how it went.
            await GiveUpAsync(email, "no attempt left after an instance stopped while sending it");
            return true;
        }
        try
        {
            await transport.SendAsync(email, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the next instance to look may send it at once. Had the server taken it already, it goes twice (with
            // the same Message-Id); not releasing it would only delay it by the lease.
            await store.ReleaseAsync(email, time.GetUtcNow(), CancellationToken.None);
            throw;
        }
        catch (EmailRejectedException e)
        {
            await GiveUpAsync(email, e.Message);
            return true;
        }
        catch (Exception e)
        {
            await FailedAttemptAsync(email, e);
            return false;
        }
        // Recorded even while stopping: it was sent.
        metrics?.EmailSent();
        if (await store.DeleteSentAsync(email, CancellationToken.None))
            logger.EmailSent(email.Id, email.To, transport.Description, email.Attempts);
        else
            logger.EmailSentAfterLeaseRanOut(email.Id, email.To, _options.ClaimLeaseSeconds);
        return true;
    }

    private async Task FailedAttemptAsync(OutboxEmail email, Exception error)
    {
        var reason = $"{error.GetType().Name}: {error.Message}";
        if (email.Attempts >= _options.MaxAttempts)
        {
            await GiveUpAsync(email, reason, error);
            return;
        }
        metrics?.EmailFailed(givenUp: false);
        var delay = _options.RetryDelayAfter(email.Attempts);
        await store.RetryLaterAsync(email, time.GetUtcNow() + delay, reason, CancellationToken.None);
        logger.EmailAttemptFailed(email.Id, email.To, email.Attempts, _options.MaxAttempts, delay.TotalSeconds, reason);
    }

    private async Task GiveUpAsync(OutboxEmail email, string reason, Exception? error = null)
    {
        metrics?.EmailFailed(givenUp: true);
        await store.MarkFailedAsync(email, time.GetUtcNow(), reason, CancellationToken.None);
        logger.EmailGivenUp(error, email.Id, email.To, email.Attempts, reason);
    }
}
