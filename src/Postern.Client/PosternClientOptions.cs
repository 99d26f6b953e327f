using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Postern.Protocol;

namespace Postern.Client;

/// <summary>How to log in.</summary>
public enum LoginMode
{
    /// <summary>
    /// Try the JSON endpoint (<see cref="PosternClientOptions.LoginPath"/>); if the backend has none, fall back to the
    /// form.
    /// </summary>
    Auto,

    /// <summary>The seed's JSON login: <c>POST /auth/login</c> with <c>X-CSRFToken</c>.</summary>
    Json,

    /// <summary>
    /// Django's stock <c>LoginView</c> (<c>/accounts/login/</c>, DRF's <c>/api-auth/login/</c>): GET the form, POST it
    /// with <c>csrfmiddlewaretoken</c>, follow the 302.
    /// </summary>
    DjangoForm,
}

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

    public string CsrfPath { get; set; } = EndpointPaths.Csrf;
    public string LoginPath { get; set; } = EndpointPaths.Login;
    public string LogoutPath { get; set; } = EndpointPaths.Logout;
    public string WhoAmIPath { get; set; } = EndpointPaths.User;

    /// <summary>The form login page for <see cref="LoginMode.DjangoForm"/>.</summary>
    public string FormLoginPath { get; set; } = "/api-auth/login/";

    public LoginMode LoginMode { get; set; } = LoginMode.Auto;
    public CrossOriginPolicy CrossOrigin { get; set; } = CrossOriginPolicy.SendWithoutCredentials;

    /// <summary>
    /// An API token (DRF's TokenAuthentication): every request to the backend sends <c>Authorization: Token &lt;key&gt;</c>
    /// instead of cookies, with no CSRF token, and no login is needed. Also <see cref="PosternSession.WithToken"/>.
    /// </summary>
    public string? ApiToken { get; set; }

    /// <summary>The API tokens collection (<see cref="PosternSession.CreateTokenAsync"/> and its siblings).</summary>
    public string TokensPath { get; set; } = Protocol.ApiToken.ListPath;

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
        FormLoginPath = options.FormLoginPath,
        LoginMode = options.LoginMode,
        CrossOrigin = options.CrossOrigin,
        Credentials = options.Credentials,
        ApiToken = options.ApiToken,
        TokensPath = options.TokensPath,
        Timeout = options.Timeout,
        TrustedCertificate = options.TrustedCertificate,
    };
}
