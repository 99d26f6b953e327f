using Xunit;

namespace Postern.Testing;

/// <summary>The two django-allauth peer sites, started side by side for a test collection: the newest allauth (forms, headless API, MFA) and Debian 12's 0.51 (forms).</summary>
public sealed class AllauthSites : IAsyncLifetime
{
    public AllauthPeer Newest { get; private set; } = null!;
    public AllauthPeer Debian12 { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var newest = AllauthPeer.StartAsync(AllauthRelease.Newest);
        var debian12 = AllauthPeer.StartAsync(AllauthRelease.Debian12);
        try
        {
            await Task.WhenAll(newest, debian12);
        }
        catch
        {
            // One failed: stop the other, if it started, before reporting the failure.
            foreach (var started in new[] { newest, debian12 }.Where(start => start.IsCompletedSuccessfully))
                await started.Result.DisposeAsync();
            throw;
        }
        Newest = newest.Result;
        Debian12 = debian12.Result;
    }

    public AllauthPeer this[AllauthRelease release] => release == AllauthRelease.Newest ? Newest : Debian12;

    public async Task DisposeAsync()
    {
        await Newest.DisposeAsync();
        await Debian12.DisposeAsync();
    }
}
