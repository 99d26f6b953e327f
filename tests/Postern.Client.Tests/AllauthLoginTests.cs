using System.Text.Json;
using Postern.Testing;

namespace Postern.Client.Tests;

/// <summary>
/// The client against real django-allauth sites: the newest release (its headless API and its forms, with two-factor
/// logins) and Debian 12's 0.51 (forms only), each profile chosen by hand and found by <see cref="LoginMode.Auto"/>.
/// </summary>
[Collection(AllauthSitesGroup.Name)]
public sealed class AllauthLoginTests(AllauthSites sites)
{
    public static TheoryData<AllauthRelease> Releases => [AllauthRelease.Newest, AllauthRelease.Debian12];

    private PosternSession NewSession(AllauthRelease release, PosternClientOptions? options = null) =>
        new(sites[release].BaseAddress, options);

    [Fact]
    public async Task AutoFindsTheHeadlessApiAndItsSessionSaysWhoAndEnds()
    {
        using var session = NewSession(AllauthRelease.Newest);
        await session.LoginAsync("alice", AllauthPeer.AlicePassword);
        Assert.Equal(LoginMode.AllauthHeadless, session.Mode);
        Assert.Equal("alice", (await session.WhoAmIAsync()).Username);
        Assert.Equal(33, await CountUsersAsync(session));

        var key = session.Cookies.GetCookies(session.BaseAddress)["sessionid"]!.Value;
        await session.LogoutAsync();
        Assert.False(session.HasSession);
        // The server ended it: the old cookie is refused.
        using var stale = NewSession(AllauthRelease.Newest);
        stale.Cookies.Add(new System.Net.Cookie("sessionid", key, "/", session.BaseAddress.Host));
        await Assert.ThrowsAsync<SessionExpiredException>(() => stale.GetJsonAsync("/api/me/"));
    }

    [Fact]
    public async Task HeadlessLoginByAddressAndAWrongPassword()
    {
        using var session = NewSession(AllauthRelease.Newest, new PosternClientOptions { LoginMode = LoginMode.AllauthHeadless });
        await session.LoginAsync("bob@example.com", AllauthPeer.BobPassword);
        Assert.Equal("bob", (await session.WhoAmIAsync()).Username);

        using var wrong = NewSession(AllauthRelease.Newest, new PosternClientOptions { LoginMode = LoginMode.AllauthHeadless });
        var refused = await Assert.ThrowsAsync<InvalidCredentialsException>(() => wrong.LoginAsync("bob", "not-his"));
        Assert.Equal("The username and/or password you specified are not correct.", refused.Detail);
    }

    [Fact]
    public async Task HeadlessTwoFactorLoginPendsUntilTheCode()
    {
        using var session = NewSession(AllauthRelease.Newest);
        await Assert.ThrowsAsync<TwoFactorRequiredException>(() => session.LoginAsync("carol", AllauthPeer.CarolPassword));
        // Pending: the session cookie holds the login in progress, not a signed-in user.
        await Assert.ThrowsAsync<SessionExpiredException>(() => session.GetJsonAsync("/api/me/"));
        await Assert.ThrowsAsync<InvalidCredentialsException>(() => session.CompleteTwoFactorAsync("000000"));
        await session.CompleteTwoFactorAsync(await sites.Newest.NextUnusedTotpAsync());
        Assert.Equal("carol", (await session.WhoAmIAsync()).Username);

        // With a code provider, one call does it all (here a recovery code).
        using var provided = NewSession(AllauthRelease.Newest, new PosternClientOptions
        {
            TwoFactorCode = (_, _) => ValueTask.FromResult<string?>(sites.Newest.RecoveryCodes[0]),
        });
        await provided.LoginAsync("carol", AllauthPeer.CarolPassword);
        Assert.Equal("carol", (await provided.WhoAmIAsync()).Username);
    }

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task TheLoginFormIsReadAndPostedAsABrowserWould(AllauthRelease release)
    {
        using var session = NewSession(release, new PosternClientOptions { LoginPageUrl = "/accounts/login/", WhoAmIPath = "/api/me/" });
        await session.LoginAsync("alice", AllauthPeer.AlicePassword);
        Assert.Equal(LoginMode.DjangoForm, session.Mode);
        Assert.Equal("alice", (await session.WhoAmIAsync()).Username);
        Assert.Equal(33, await CountUsersAsync(session));
        // A form login knows no account endpoints: said plainly, nothing sent.
        var unavailable = await Assert.ThrowsAsync<PosternException>(() => session.ChangePasswordAsync(AllauthPeer.AlicePassword, "Another-0ne!"));
        Assert.Contains("use the site's own pages", unavailable.Message, StringComparison.Ordinal);
        await session.LogoutAsync();
        await Assert.ThrowsAsync<NotAuthenticatedException>(() => session.GetJsonAsync("/api/me/"));

        using var byAddress = NewSession(release, new PosternClientOptions { LoginMode = LoginMode.DjangoForm, WhoAmIPath = "/api/me/" });
        await byAddress.LoginAsync("bob@example.com", AllauthPeer.BobPassword);
        Assert.Equal("bob", (await byAddress.WhoAmIAsync()).Username);
    }

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task AWrongPasswordOnTheFormIsTheFormsOwnError(AllauthRelease release)
    {
        using var session = NewSession(release, new PosternClientOptions { LoginMode = LoginMode.DjangoForm });
        var refused = await Assert.ThrowsAsync<InvalidCredentialsException>(() => session.LoginAsync("alice", "not-hers"));
        Assert.Equal("The username and/or password you specified are not correct.", refused.Detail);
        Assert.False(session.HasSession);
    }

    [Fact]
    public async Task TheTwoFactorFormAfterTheLoginForm()
    {
        using var session = NewSession(AllauthRelease.Newest, new PosternClientOptions { LoginMode = LoginMode.DjangoForm, WhoAmIPath = "/api/me/" });
        await Assert.ThrowsAsync<TwoFactorRequiredException>(() => session.LoginAsync("carol", AllauthPeer.CarolPassword));
        var wrong = await Assert.ThrowsAsync<InvalidCredentialsException>(() => session.CompleteTwoFactorAsync("000000"));
        Assert.Equal("Incorrect code.", wrong.Detail);
        await session.CompleteTwoFactorAsync(await sites.Newest.NextUnusedTotpAsync());
        Assert.Equal("carol", (await session.WhoAmIAsync()).Username);
    }

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task DrfsOwnLoginFormOnAnAllauthSite(AllauthRelease release)
    {
        using var session = NewSession(release, new PosternClientOptions { LoginMode = LoginMode.DrfApiAuth, WhoAmIPath = "/api/me/" });
        await session.LoginAsync("bob", AllauthPeer.BobPassword);
        Assert.Equal("bob", (await session.WhoAmIAsync()).Username);
        // (No logout here: DRF's /api-auth/logout/ renders Django admin's logged_out.html, and this site has no admin: a 500.)
    }

    [Fact]
    public async Task AutoOnASiteWithFormsOnlyFindsAForm()
    {
        using var session = NewSession(AllauthRelease.Debian12, new PosternClientOptions { WhoAmIPath = "/api/me/" });
        await session.LoginAsync("alice", AllauthPeer.AlicePassword);
        Assert.Contains(session.Mode, new[] { LoginMode.DrfApiAuth, LoginMode.DjangoForm });
        Assert.Equal("alice", (await session.WhoAmIAsync()).Username);
    }

    private static async Task<int> CountUsersAsync(PosternSession session)
    {
        var count = 0;
        await foreach (var _ in session.PaginateAsync<JsonElement>("/api/users/"))
            count++;
        return count;
    }
}
