using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using Postern.Server.Accounts;
using Postern.Server.Api;
using Postern.Server.Api.Resources;
using Postern.Server.Audit;
using Postern.Server.Browsable;
using Postern.Server.Cors;
using Postern.Server.Csrf;
using Postern.Server.Django;
using Postern.Server.Email;
using Postern.Server.Health;
using Postern.Server.Http;
using Postern.Server.OpenApi;
using Postern.Server.Sessions;
using Postern.Server.Storage;
using Postern.Server.Storage.Caching;
using Postern.Server.Storage.Postgres;
using Postern.Server.Storage.Schema;
using Postern.Server.Storage.Sqlite;
using Postern.Server.Throttling;
using Postern.Server.TwoFactor;

namespace Postern.Server.Hosting;

/// <summary>What the command line decides about a server before configuration is read.</summary>
public sealed record HostSettings(string? Urls = null, string? Database = null, string? Redis = null)
{
    /// <summary><c>--schema</c>: <c>postern</c> or <c>django</c> (<see cref="StorageOptions.Schema"/>).</summary>
    public string? Schema { get; init; }

    /// <summary>Extra configuration applied last (tests use it; so could an embedding application).</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; init; } = new Dictionary<string, string?>();

    /// <summary>Services added after Postern's own: more API resources (<c>AddApiResource</c>) and their stores.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
}

/// <summary>Builds the Postern web application: services, the request pipeline, the endpoints.</summary>
public static class PosternApplication
{
    public static WebApplicationBuilder CreateBuilder(HostSettings settings, string[]? args = null)
    {
        // The slim builder: appsettings.json, environment variables, the command line and console logging, without what
        // Postern never uses (IIS integration, HTTP/3 over QUIC, hosting startup assemblies, static web assets), which
        // would each cost resident memory in every instance. HTTPS endpoints (--urls https://...) stay available.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args ?? [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelHttpsConfiguration();
        var overrides = new Dictionary<string, string?>(settings.Overrides);
        if (settings.Database is not null)
            overrides[StorageOptions.Section + ":Database"] = settings.Database;
        if (settings.Redis is not null)
            overrides[RedisOptions.Section + ":Configuration"] = settings.Redis;
        if (settings.Schema is not null)
            overrides[StorageOptions.Section + ":Schema"] = settings.Schema;
        if (settings.Urls is not null)
            overrides["urls"] = settings.Urls;
        builder.Configuration.AddInMemoryCollection(overrides);
        Observability.ObservabilitySetup.AddObservability(builder);
        AddPostern(builder);
        settings.ConfigureServices?.Invoke(builder.Services);
        return builder;
    }

    /// <summary>Builds the application and prepares its storage (schema, secret key) so it is ready to serve.</summary>
    public static async Task<WebApplication> BuildAsync(HostSettings settings, CancellationToken ct = default)
    {
        var app = CreateBuilder(settings).Build();
        await PrepareAsync(app.Services, ct);
        UsePostern(app);
        return app;
    }

    private static void AddPostern(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DjangoOptions>().BindConfiguration(DjangoOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SecretOptions>().BindConfiguration(SecretOptions.Section);
        services.AddOptions<CsrfOptions>().BindConfiguration(CsrfOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CorsOptions>().BindConfiguration(CorsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<CorsOptions>, CorsOptionsSingleValue>();
        services.AddSingleton<IValidateOptions<CorsOptions>, CorsOptionsValidator>();
        services.AddCors();
        services.AddOptions<ServerSessionOptions>().BindConfiguration(ServerSessionOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AccountOptions>().BindConfiguration(AccountOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<AccountOptions>>(provider => new PostConfigureOptions<AccountOptions>(Options.DefaultName,
            accounts => accounts.RehashAtLogin ??= !BesideDjango(provider)));
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TwoFactorOptions>().BindConfiguration(TwoFactorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<FrontendOptions>().BindConfiguration(FrontendOptions.Section);
        services.AddOptions<PasswordValidationOptions>().ValidateOnStart();
        services.AddSingleton<IConfigureOptions<PasswordValidationOptions>, PasswordValidationSetup>();
        services.AddSingleton<IValidateOptions<PasswordValidationOptions>, PasswordValidationSetup>();
        services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.Section).ValidateDataAnnotations()
            .Validate(proxy => proxy.TrustedNetworks() is not null).ValidateOnStart();
        services.AddOptions<ThrottlingOptions>().BindConfiguration(ThrottlingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ThrottlingOptions>, ThrottlingOptionsValidator>();
        services.AddSingleton<AllowedHosts>();
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LimitOptions>().BindConfiguration(LimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section);
        services.AddOptions<CacheOptions>().BindConfiguration(CacheOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidation>();

        var limits = builder.Configuration.GetSection(LimitOptions.Section).Get<LimitOptions>() ?? new LimitOptions();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            // Accept Latin-1 header bytes so odd values reach the pipeline and get a JSON 4xx, not a bare 400 from the server.
            // Not for Content-Length: Kestrel's custom-encoding path for it throws on values over 20 bytes and drops the
            // connection without an answer; its default path answers 400.
            kestrel.RequestHeaderEncodingSelector = name =>
                name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) ? null : System.Text.Encoding.Latin1;
        });
        services.Configure<Microsoft.AspNetCore.Http.Features.FormOptions>(form =>
        {
            form.ValueCountLimit = 1024;
            form.MultipartBodyLengthLimit = limits.MaxRequestBodyBytes;
        });

        services.AddSingleton(TimeProvider.System);
        services.AddStorage();
        services.AddSingleton(provider => new SecretKeyRing(
            ResolveSecretKey(provider), provider.GetRequiredService<IOptions<SecretOptions>>().Value.SecretKeyFallbacks));
        services.AddSingleton<SessionAuthHash>();
        services.AddSingleton<SessionManager>();
        services.AddSingleton<ApiTokenAuthentication>();
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton(provider =>
            PasswordValidation.From(provider.GetRequiredService<IOptions<PasswordValidationOptions>>().Value));
        services.AddSingleton<AccountService>();
        services.AddSingleton<LoginFlow>();
        services.AddSingleton<MfaStore>();
        services.AddSingleton<TotpAuthenticator>();
        services.AddSingleton<SecondFactor>();
        services.AddSingleton<PendingMfaLogins>();
        services.AddSingleton<DatabaseThrottleStore>();
        services.AddSingleton<IThrottleStore>(provider =>
            provider.GetRequiredService<RedisConnectionHolder>().Connection is { } redis
            && provider.GetRequiredService<IOptions<ThrottlingOptions>>().Value.CountInRedis
                ? new RedisThrottleStore(redis)
                : provider.GetRequiredService<DatabaseThrottleStore>());
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<RequestRateLimiter>();
        services.AddSingleton<ApiThrottle>();
        services.AddSingleton<NewPasswordRules>();
        services.AddSingleton<AccountMailRequests>();
        services.AddHostedService<AccountMailWorker>();
        // The CORS allowed origins are trusted by the CSRF checks too, unless kept apart; the CSRF rules know nothing of CORS.
        services.AddSingleton(provider => new TrustedOrigins(provider.GetRequiredService<IOptions<CsrfOptions>>(),
            provider.GetRequiredService<IOptions<CorsOptions>>().Value is { TrustForCsrf: true } cors ? cors.Origins() : null));
        services.AddSingleton<CsrfRules>();
        services.AddSingleton<CsrfProtection>();
        // A hyperlink in input to the schema or its page is an "incorrect match", as Django resolves them.
        string[] schemaPaths = ApiSchemaEndpoints.IsEnabled(builder.Configuration)
            ? [ApiSchemaEndpoints.SchemaPath, ApiSchemaEndpoints.DocsPath]
            : [];
        foreach (var resource in ApiResources.All)
            services.AddApiResource(resource);
        services.AddSingleton(provider => new RouteTable(
            provider.GetServices<ApiResourceRegistration>().Select(r => r.Resource),
            otherPaths:
        [
            Protocol.EndpointPaths.Csrf, Protocol.EndpointPaths.Login, Protocol.EndpointPaths.Logout, Protocol.EndpointPaths.User,
            LoginPages.LoginPath, LoginPages.LogoutPath, .. schemaPaths,
        ]));
        services.AddSingleton<ApiSchemaDocument>();
        services.AddSingleton<IUserLinks, ApiUserLinks>();
        services.AddSingleton<IApiHtmlRenderer, BrowsablePage>();
        services.AddHostedService<ExpiredSessionSweeper>();
        services.AddOptions<MemoryOptions>().BindConfiguration(MemoryOptions.Section);
        services.AddHostedService<IdleMemoryTrimmer>();
        services.AddEmail();
        services.AddRouting();
    }

    /// <summary>
    /// One <see cref="Database"/> under every store: a PostgreSQL URL selects PostgreSQL, anything else is a SQLite path.
    /// Its reads go through the in-process cache when something can tell every instance about every write: SQLite's
    /// data_version, or with PostgreSQL, a Redis change counter. With Redis, writes are announced even when this
    /// instance's cache is off: the other instances may cache.
    /// </summary>
    private static void AddStorage(this IServiceCollection services)
    {
        services.AddSingleton(provider =>
        {
            var configuration = provider.GetRequiredService<IOptions<RedisOptions>>().Value.Configuration;
            return new RedisConnectionHolder(string.IsNullOrWhiteSpace(configuration)
                ? null
                : new RedisConnection(configuration, provider.GetRequiredService<Observability.PosternMetrics>()));
        });
        services.AddSingleton(provider =>
        {
            var storage = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
            var tables = storage.Schema == StorageSchema.Django
                ? TableNames.BesideDjango(provider.GetRequiredService<IOptions<DjangoOptions>>().Value.UserTable)
                : null;
            var dialect = SqlDialect.Open(storage.Database, storage.SqliteWritesPerCommit);
            return new Database(dialect, ReadCacheFor(dialect, tables, provider), provider.GetRequiredService<ILogger<Database>>(),
                provider.GetRequiredService<Observability.PosternMetrics>(), tables);
        });
        // Beside Django, its sessions are Django's rows (DjangoSessionStore), which a password change re-signs.
        services.AddSingleton<DjangoSessionStore>();
        services.AddSingleton<IUserStore>(provider => new UserStore(provider.GetRequiredService<Database>(),
            provider.GetRequiredService<TimeProvider>(), BesideDjango(provider) ? provider.GetRequiredService<DjangoSessionStore>() : null));
        services.AddSingleton<IGroupStore, GroupStore>();
        services.AddSingleton<ISessionStore>(provider => BesideDjango(provider)
            ? provider.GetRequiredService<DjangoSessionStore>()
            : ActivatorUtilities.CreateInstance<SessionStore>(provider));
        services.AddSingleton<ApiTokenStore>();
        services.AddSingleton<AuditStore>();
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<IStoreAdministration, StoreAdministration>();
    }

    /// <summary>
    /// The outbox (<see cref="EmailOutbox"/>, what the account flows call), its worker, and where e-mails go: the SMTP server of
    /// <c>Postern:Email:SmtpUrl</c>, or without one the log.
    /// </summary>
    private static void AddEmail(this IServiceCollection services)
    {
        services.AddSingleton<EmailTemplates>();
        services.AddSingleton<EmailOutboxStore>();
        services.AddSingleton<EmailOutboxSignal>();
        services.AddSingleton<EmailOutbox>();
        services.AddSingleton<IEmailTransport>(provider =>
            string.IsNullOrWhiteSpace(provider.GetRequiredService<IOptions<EmailOptions>>().Value.SmtpUrl)
                ? ActivatorUtilities.CreateInstance<LogEmailTransport>(provider)
                : ActivatorUtilities.CreateInstance<SmtpEmailTransport>(provider));
        services.AddHostedService<EmailOutboxWorker>();
    }

    private static bool BesideDjango(IServiceProvider provider) =>
        provider.GetRequiredService<IOptions<StorageOptions>>().Value.Schema == StorageSchema.Django;

    /// <summary>The cache and what keeps it exact; null when reads go straight to the database and writes need no announcing.</summary>
    private static ReadCache? ReadCacheFor(SqlDialect dialect, TableNames? tables, IServiceProvider provider)
    {
        var options = provider.GetRequiredService<IOptions<CacheOptions>>().Value;
        ReadCache Cache(IStoreChangeSignal signal, int maxEntries) =>
            new(signal, provider.GetRequiredService<TimeProvider>(), maxEntries, TimeSpan.FromSeconds(options.MaxAgeSeconds),
                provider.GetRequiredService<Observability.PosternMetrics>());
        if (dialect is SqliteDialect sqlite)
            return options.Enabled ? Cache(new SqliteDataVersion(sqlite.Path), options.MaxEntries) : null;
        // Beside Django, only the database's own counter sees Django's writes (its triggers on Django's tables): Django never
        // tells Redis. Redis then keeps the throttles only.
        var redis = tables is null ? provider.GetRequiredService<RedisConnectionHolder>().Counter : null;
        if (redis is not null)
            return Cache(redis, options.Enabled ? options.MaxEntries : 0);
        // PostgreSQL alone: the counter lives in the database. An instance that caches nothing still announces its writes,
        // for the others that may.
        return dialect is PostgresDialect postgres
            ? Cache(new PostgresChangeCounter(postgres, tables), options.Enabled ? options.MaxEntries : 0)
            : null;
    }

    private const string SecretKeySetting = "secret_key";

    private static string ResolveSecretKey(IServiceProvider provider)
    {
        var configured = provider.GetRequiredService<IOptions<SecretOptions>>().Value.SecretKey;
        if (!string.IsNullOrEmpty(configured))
            return configured;
        // A key of Postern's own would sign sessions Django cannot read, and read none of Django's.
        if (BesideDjango(provider))
        {
            throw new DjangoSchemaException(
                "Beside Django, Postern:SecretKey (Postern__SecretKey) must be the Django project's SECRET_KEY, and "
                + "Postern:SecretKeyFallbacks its SECRET_KEY_FALLBACKS.");
        }
        return provider.GetRequiredService<IStoreAdministration>()
            .GetOrCreateSettingAsync(SecretKeySetting, SecretKeyRing.NewSecretKey).GetAwaiter().GetResult();
    }

    /// <summary>Creates or migrates the schema, then resolves the secret key (which may live in it).</summary>
    public static async Task PrepareAsync(IServiceProvider services, CancellationToken ct = default)
    {
        await services.GetRequiredService<IStoreAdministration>().MigrateAsync(ct);
        services.GetRequiredService<SecretKeyRing>();
    }

    private static void UsePostern(WebApplication app)
    {
        // The metrics listener's branch and the request log (ids, one line per request): before anything else.
        Observability.ObservabilitySetup.UseObservability(app);
        var proxy = app.Services.GetRequiredService<IOptions<ProxyOptions>>().Value;
        if (proxy.TrustForwardedProto || proxy.TrustForwardedHost || proxy.TrustsForwardedFor)
        {
            var forwarded = new ForwardedHeadersOptions
            {
                ForwardedHeaders = (proxy.TrustsForwardedFor ? ForwardedHeaders.XForwardedFor : ForwardedHeaders.None)
                    | (proxy.TrustForwardedProto ? ForwardedHeaders.XForwardedProto : ForwardedHeaders.None)
                    | (proxy.TrustForwardedHost ? ForwardedHeaders.XForwardedHost : ForwardedHeaders.None),
                // Named proxies: step over every trusted hop. A count: exactly that many.
                ForwardLimit = proxy.TrustedProxyCount > 0 ? proxy.TrustedProxyCount : proxy.TrustedProxies.Count > 0 ? null : 1,
            };
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            // Without named proxies the operator said one fronts every request, its address not known in advance (Docker).
            foreach (var network in proxy.TrustedNetworks())
                forwarded.KnownIPNetworks.Add(network);
            app.UseForwardedHeaders(forwarded);
        }
        app.UseMiddleware<SecurityHeadersMiddleware>();
        // Health probes first: an orchestrator asks by the container's address, and they build nothing from the host.
        app.UseMiddleware<HealthEndpointsMiddleware>();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseMiddleware<AllowedHostsMiddleware>();
        // CORS for the configured origins (none: not in the pipeline at all), after the host check and before everything that
        // reads cookies or routes: a preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here, 204,
        // never by the API's OPTIONS; other answers, error answers included, get their headers as they start.
        var cors = app.Services.GetRequiredService<IOptions<CorsOptions>>().Value;
        if (cors.Origins().Count > 0)
        {
            app.UseMiddleware<VaryByOriginMiddleware>();
            app.UseCors(policy => CorsPolicySetup.Configure(policy, cors));
        }
        // Answers that ASP.NET itself leaves without a body (routing's 405 for a method an endpoint does not map, a 404
        // nobody wrote) get DRF's JSON as every other answer does.
        app.UseStatusCodePages(context => JsonResponses.WriteEmptyAnswerAsync(context.HttpContext));
        app.UseMiddleware<OneChangeTokenPerRequestMiddleware>();
        app.UseMiddleware<CsrfCookieMiddleware>();
        app.UseMiddleware<SessionMiddleware>();
        app.UseRouting();
        app.UseMiddleware<CsrfProtectionMiddleware>();
        app.MapAuthEndpoints();
        app.MapAccountEndpoints();
        app.MapAccountPages();
        app.MapApi(app.Services.GetRequiredService<RouteTable>());
        app.MapLoginPages();
        app.MapApiSchema();
        // Every path, file-like ones (/x.js) included: the default fallback pattern leaves those out.
        app.MapFallback("{**path}", context => JsonResponses.WriteDetailAsync(context, StatusCodes.Status404NotFound, "Not found."));
    }
}

/// <summary>
/// Deletes expired sessions hourly, so the table holds only live ones (Django leaves this to a cron job), failed-login
/// counts that have gone quiet, and audit events past Postern:Audit:RetentionDays.
/// </summary>
public sealed class ExpiredSessionSweeper(ISessionStore sessions, DatabaseThrottleStore throttles, IOptions<ThrottlingOptions> throttling,
    AuditStore audit, IOptions<AuditOptions> auditOptions, TimeProvider time, ILogger<ExpiredSessionSweeper> logger,
    Observability.PosternMetrics? metrics = null)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        do
        {
            try
            {
                var now = time.GetUtcNow();
                var purged = await sessions.DeleteExpiredSessionsAsync(now, stoppingToken);
                if (purged > 0)
                    logger.PurgedSessions(purged);
                metrics?.SessionsEnded(Observability.PosternMetrics.EndReasons.Expired, purged);
                // Failed-login counts quiet for a whole window would start again at 1: they need not be kept. (In Redis they
                // expire; rows left from before Redis counted them go here too.)
                var kept = TimeSpan.FromSeconds(Math.Max(throttling.Value.AccountWindowSeconds, 60));
                await throttles.DeleteQuietAsync(now - (kept > throttling.Value.LongestRatePeriod() ? kept : throttling.Value.LongestRatePeriod()),
                    stoppingToken);
                if (auditOptions.Value.RetentionDays > 0)
                    await audit.DeleteOlderThanAsync(now.AddDays(-auditOptions.Value.RetentionDays), stoppingToken);
            }
            catch (StoreUnavailableException e)
            {
                logger.PurgeFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
