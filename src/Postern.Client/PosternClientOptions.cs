using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Postern.Protocol;

namespace Postern.Client;

/// <summary>Which kind of Django authentication stack to log in to (the login profile).</summary>
public enum LoginMode
{
    /// <summary>
    /// Find out: allauth's headless <c>config</c>, then the seed's <c>/auth/csrf</c>, then a login form at
    /// <see cref="PosternClientOptions.LoginPageUrl"/> (tried first when given), then DRF's <c>/api-auth/login/</c>, then
    /// Django's <c>/accounts/login/</c>. The profile found is kept (and saved with the session).
    /// </summary>
    Auto,

    /// <summary>The seed's JSON login (Postern, the Django reference backend): <c>POST /auth/login</c> with <c>X-CSRFToken</c>.</summary>
    Seed,

    /// <summary>django-allauth's headless API for browsers, <c>/_allauth/browser/v1/</c>.</summary>
    AllauthHeadless,

    /// <summary>
    /// A login form read from its page: Django's <c>LoginView</c>, allauth's <c>/accounts/login/</c> (the default page)
    /// or any other at <see cref="PosternClientOptions.LoginPageUrl"/>.
    /// </summary>
    DjangoForm,

    /// <summary>DRF's browsable API login form, <c>/api-auth/login/</c>.</summary>
    DrfApiAuth,
}

/// <summary>Asked for a one-time code when a login needs a second factor; null gives up (<see cref="TwoFactorRequiredException"/>).</summary>
public delegate ValueTask<string?> TwoFactorCodeProvider(Uri baseAddress, CancellationToken ct);

/// <summary>What to do with a link to another origin.</summary>
public enum CrossOriginPolicy
{
    /// <summary>Follow it, but without cookies, CSRF token or Referer (they belong to the backend alone).</summary>
    SendWithoutCredentials,

    /// <summary>Refuse with <see cref="CrossOriginException"/>.</summary>
    Refuse,
}

/// <summary>Asked for credentials when a session has expired, so the client can log in again once.</summary>
public delegate ValueTask<(string Username, string Password)?> CredentialProvider(Uri baseAddress, CancellationToken ct);

public sealed class PosternClientOptions
{
    /// <summary>The backend, e.g. <c>http://backend/</c>. Relative paths resolve against it.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The seed's endpoints (<see cref="LoginMode.Seed"/>).</summary>
    public string CsrfPath { get; set; } = EndpointPaths.Csrf;

    public string LoginPath { get; set; } = EndpointPaths.Login;
    public string LogoutPath { get; set; } = EndpointPaths.Logout;

    /// <summary>
    /// What says who is signed in, when not the profile's own (<c>/auth/user</c>, allauth's <c>auth/session</c>); a form
    /// site has none of its own, so give one there (e.g. an API endpoint that returns the user).
    /// </summary>
    public string? WhoAmIPath { get; set; }

    /// <summary>
    /// Where to log in: a login form's page (<see cref="LoginMode.DjangoForm"/>, default <c>/accounts/login/</c>), or
    /// allauth's headless base (<see cref="LoginMode.AllauthHeadless"/>, default <c>/_allauth/browser/v1/</c>). With
    /// <see cref="LoginMode.Auto"/>, tried first.
    /// </summary>
    public string? LoginPageUrl { get; set; }

    public LoginMode LoginMode { get; set; } = LoginMode.Auto;
    public CrossOriginPolicy CrossOrigin { get; set; } = CrossOriginPolicy.SendWithoutCredentials;

    /// <summary>
    /// An API token (DRF's TokenAuthentication): every request to the backend sends <c>Authorization: Token &lt;key&gt;</c>
    /// instead of cookies, with no CSRF token, and no login is needed. Also <see cref="PosternSession.WithToken"/>.
    /// </summary>
    public string? ApiToken { get; set; }

    /// <summary>The API tokens collection (<see cref="PosternSession.CreateTokenAsync"/> and its siblings).</summary>
    public string TokensPath { get; set; } = Protocol.ApiToken.ListPath;

    /// <summary>When set, a login that needs a second factor asks it for the code and finishes.</summary>
    public TwoFactorCodeProvider? TwoFactorCode { get; set; }

    /// <summary>When set, an expired session is logged in again once and the request retried.</summary>
    public CredentialProvider? Credentials { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>
    /// For test and development backends with a self-signed certificate or a private CA: when set, this
    /// certificate is the <em>only</em> trust root for the backend's TLS certificate (the system's roots are
    /// not consulted), while expiry and the host name are still checked as usual. Leave unset in
    /// production: the system's trust store applies. There is deliberately no "accept any certificate".
    /// </summary>
    public X509Certificate2? TrustedCertificate { get; set; }

    /// <summary>The connection handler these options ask for (cookies and redirects are the session's job).</summary>
    public SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false };
        if (TrustedCertificate is { } root)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                // A self-signed test certificate or a private dev CA publishes no revocation list to ask.
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.Add(root);
            handler.SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
        }
        return handler;
    }
}

internal static class PosternClientOptionsCopy
{
    public static PosternClientOptions MemberwiseCloneOptions(this PosternClientOptions options) => new()
    {
        BaseAddress = options.BaseAddress,
        CsrfPath = options.CsrfPath,
        LoginPath = options.LoginPath,
        LogoutPath = options.LogoutPath,
        WhoAmIPath = options.WhoAmIPath,
        LoginPageUrl = options.LoginPageUrl,
        TwoFactorCode = options.TwoFactorCode,
        LoginMode = options.LoginMode,
        CrossOrigin = options.CrossOrigin,
        Credentials = options.Credentials,
        ApiToken = options.ApiToken,
        TokensPath = options.TokensPath,
        Timeout = options.Timeout,
        TrustedCertificate = options.TrustedCertificate,
    };
}
