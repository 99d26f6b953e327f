using System.Globalization;
using System.Net;
using OtpNet;

namespace Postern.Testing;

/// <summary>Which django-allauth the peer site (tests/allauth-site) runs.</summary>
public enum AllauthRelease
{
    /// <summary>The newest allauth of Debian's newer suites, on Django 5.2: the forms, the headless API and MFA.</summary>
    Newest,

    /// <summary>Debian 12's allauth 0.51, on Django 3.2: the HTML forms only (no headless API, no MFA).</summary>
    Debian12,
}

/// <summary>
/// The django-allauth peer site (tests/allauth-site), started with its run.sh on a free loopback port, with a fresh
/// SQLite database seeded by seed.py in a temporary folder of this fixture's own, and stopped on dispose. Runs under a
/// <see cref="WatchedProcess"/>, so it never outlives the test host; stopped by its own PID (TERM). Installing it is
/// the test command's job (scripts/test.sh runs tests/allauth-site/install.sh).
/// </summary>
public sealed class AllauthPeer : IAsyncDisposable
{
    // The users seed.py creates (user00 … user29 have no usable password).
    public const string AliceUsername = "alice";
    public const string AlicePassword = "alice-password";
    public const string BobUsername = "bob";
    public const string BobPassword = "bob-password";
    public const string CarolUsername = "carol";
    public const string CarolPassword = "carol-password";

    /// <summary>Carol's TOTP secret on <see cref="AllauthRelease.Newest"/> (seed.py's): SHA-1, 6 digits, 30 s.</summary>
    public const string CarolTotpSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    public static readonly TimeSpan TotpPeriod = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a code from <see cref="NextUnusedTotpAsync"/> stays valid at least: allauth's tolerance is 0, so a code
    /// handed out in the last seconds of its period could expire before the test sends it.
    /// </summary>
    public static readonly TimeSpan MinimumTotpValidity = TimeSpan.FromSeconds(5);

    /// <summary>The two releases start in parallel on a 2-core machine, each migrating a fresh database first.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(180);

    // Another program may take the free port between our pick and gunicorn's bind: that many tries, a new port each.
    private const int PortAttempts = 3;

    private const int Workers = 2;

    private readonly WatchedProcess _process;
    private readonly Lock _totpLock = new();
    private long _lastTotpPeriodHandedOut = -1;

    private AllauthPeer(WatchedProcess process, string siteDirectory, Uri baseAddress, AllauthRelease release)
    {
        _process = process;
        SiteDirectory = siteDirectory;
        BaseAddress = baseAddress;
        Release = release;
    }

    /// <summary><c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseAddress { get; }

    public AllauthRelease Release { get; }

    /// <summary>Whether the site serves allauth's headless API (<c>/_allauth/</c>) and MFA (carol's TOTP, recovery codes).</summary>
    public bool HasHeadless => Release == AllauthRelease.Newest;

    /// <summary>Carol's 10 recovery codes (8 digits each, each good once) as seeded; empty on <see cref="AllauthRelease.Debian12"/>.</summary>
    public IReadOnlyList<string> RecoveryCodes { get; private set; } = [];

    /// <summary>The folder of the site's database, file cache, recovery codes and <see cref="ServerOutput"/>.</summary>
    public string SiteDirectory { get; }

    /// <summary>
    /// What run.sh, migrate, seed.py and gunicorn wrote so far (stdout and stderr): the access log, tracebacks, and the
    /// e-mails the site sends (Django's console backend).
    /// </summary>
    public string ServerOutput => ReadServerOutput(SiteDirectory);

    public HttpClient CreateRawClient() => RawHttp.CreateClient(BaseAddress);

    /// <summary>The folder holding the peer's run.sh, in this checkout.</summary>
    public static string SiteSourceDirectory() => Path.GetDirectoryName(RepositoryFiles.Find("tests/allauth-site/run.sh"))!;

    /// <summary>Starts a fresh site; returns once its login form answers 200.</summary>
    /// <param name="rateLimits">Keep allauth's login rate limits (off by default: on loopback every test shares one
    /// address, and the new release refuses even right passwords after 10 failures a minute from one address).</param>
    public static async Task<AllauthPeer> StartAsync(AllauthRelease release, bool rateLimits = false, CancellationToken ct = default)
    {
        var siteDirectory = Directory.CreateTempSubdirectory("postern-allauth-").FullName;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var port = DjangoPeer.FreePort();
                var process = await StartRunShAsync(release, rateLimits, siteDirectory, port);
                var peer = new AllauthPeer(process, siteDirectory, new Uri($"http://127.0.0.1:{port}/"), release);
                try
                {
                    if (await peer.WaitUntilServingAsync(port, ct))
                    {
                        peer.RecoveryCodes = ReadRecoveryCodes(siteDirectory, release);
                        return peer;
                    }
                }
                catch
                {
                    await process.StopAsync(TimeSpan.FromSeconds(15));
                    throw;
                }
                // gunicorn gave up binding: the port was taken after we picked it.
                await process.StopAsync(TimeSpan.FromSeconds(15));
                if (attempt == PortAttempts)
                {
                    throw new InvalidOperationException(
                        $"The allauth peer ({release}) found its port taken {PortAttempts} times:\n{ReadServerOutput(siteDirectory)}");
                }
            }
        }
        catch
        {
            DeleteSiteDirectory(siteDirectory);
            throw;
        }
    }

    /// <summary>
    /// Runs run.sh with its environment set through env(1), and its output appended to server.log in the site folder:
    /// WatchedProcess reads only the first line of stdout, and gunicorn's access log would fill an unread pipe. env and
    /// bash exec, and run.sh execs gunicorn (ALLAUTH_SITE_DIR being set), so the watched PID ends up gunicorn's master.
    /// </summary>
    private static Task<WatchedProcess> StartRunShAsync(AllauthRelease release, bool rateLimits, string siteDirectory, int port) =>
        WatchedProcess.StartAsync("/usr/bin/env",
        [
            // Settings the caller's environment might carry, so that every start is the documented default.
            "-u", "ALLAUTH_SITE_SECRET_KEY", "-u", "ALLAUTH_SITE_EMAIL_VERIFICATION",
            "ALLAUTH=" + (release == AllauthRelease.Newest ? "new" : "0.51"),
            "ALLAUTH_SITE_DIR=" + siteDirectory,
            "ALLAUTH_SITE_RATE_LIMITS=" + (rateLimits ? "1" : "0"),
            "/bin/bash", "-c", """exec "$0" "$@" >>"$ALLAUTH_SITE_DIR/server.log" 2>&1""",
            Path.Combine(SiteSourceDirectory(), "run.sh"),
            port.ToString(CultureInfo.InvariantCulture),
            Workers.ToString(CultureInfo.InvariantCulture),
        ]);

    /// <summary>True once the login form answers; false if gunicorn could not bind the port; throws otherwise.</summary>
    private async Task<bool> WaitUntilServingAsync(int port, CancellationToken ct)
    {
        // Only our own gunicorn's word that it holds the port tells a 200 from ours apart from another server's on it.
        var portText = port.ToString(CultureInfo.InvariantCulture);
        var listening = $"Listening at: http://127.0.0.1:{portText} ";
        var portTaken = $"Connection in use: ('127.0.0.1', {portText})";
        using var probe = CreateRawClient();
        probe.Timeout = TimeSpan.FromSeconds(10);
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                var output = ServerOutput;
                if (output.Contains(portTaken, StringComparison.Ordinal))
                    return false;
                throw new InvalidOperationException(
                    $"The allauth peer ({Release}) exited with code {_process.ExitCode} before serving on port {port}:\n{output}");
            }
            if (ServerOutput.Contains(listening, StringComparison.Ordinal))
            {
                try
                {
                    using var response = await probe.GetAsync("/accounts/login/", ct);
                    if (response.StatusCode == HttpStatusCode.OK)
                        return true;
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException) when (!ct.IsCancellationRequested)
                {
                    // The probe's own timeout: a worker still importing Django.
                }
            }
            await Task.Delay(250, ct);
        }
        throw new TimeoutException(
            $"The allauth peer ({Release}) did not serve /accounts/login/ on port {port} within {StartTimeout.TotalSeconds} s:\n{ServerOutput}");
    }

    private static string[] ReadRecoveryCodes(string siteDirectory, AllauthRelease release)
    {
        if (release != AllauthRelease.Newest)
            return [];
        var file = Path.Combine(siteDirectory, "carol-recovery-codes.txt");
        return File.Exists(file)
            ? File.ReadAllText(file).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            : throw new InvalidOperationException($"seed.py wrote no {file}:\n{ReadServerOutput(siteDirectory)}");
    }

    private static string ReadServerOutput(string siteDirectory)
    {
        var log = Path.Combine(siteDirectory, "server.log");
        if (!File.Exists(log))
            return "";
        // gunicorn keeps writing to it.
        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Carol's TOTP code for the 30-s period holding <paramref name="time"/> (RFC 6238, as allauth computes it).</summary>
    public static string TotpAt(DateTimeOffset time) =>
        new Totp(Base32Encoding.ToBytes(CarolTotpSecret), (int)TotpPeriod.TotalSeconds, OtpHashMode.Sha1, 6)
            .ComputeTotp(time.UtcDateTime);

    /// <summary>
    /// Carol's TOTP code now. Counts as handed out: <see cref="NextUnusedTotpAsync"/> will not return a code of this
    /// period (a test may have spent it). For a code nobody will send, use <see cref="TotpAt"/>.
    /// </summary>
    public string CurrentTotp()
    {
        var now = DateTimeOffset.UtcNow;
        lock (_totpLock)
            _lastTotpPeriodHandedOut = Math.Max(_lastTotpPeriodHandedOut, PeriodOf(now));
        return TotpAt(now);
    }

    /// <summary>
    /// A TOTP code for carol that this site has not seen yet and that stays valid for <see cref="MinimumTotpValidity"/>
    /// at least. allauth accepts each code once and only in its own 30-s period, so this fixture hands out one code per
    /// period: if the current period's code was already handed out (here or by <see cref="CurrentTotp"/>), or too
    /// little of the period is left, it waits for the next period (up to about 35 s). Safe to call concurrently.
    /// </summary>
    public async Task<string> NextUnusedTotpAsync(CancellationToken ct = default)
    {
        while (true)
        {
            var now = DateTimeOffset.UtcNow;
            var period = PeriodOf(now);
            long wanted;
            lock (_totpLock)
            {
                if (period > _lastTotpPeriodHandedOut && StartOf(period + 1) - now >= MinimumTotpValidity)
                {
                    _lastTotpPeriodHandedOut = period;
                    return TotpAt(now);
                }
                wanted = Math.Max(period, _lastTotpPeriodHandedOut) + 1;
            }
            // A little past the boundary: the server's clock reading must be in the new period too.
            await Task.Delay(StartOf(wanted) - now + TimeSpan.FromMilliseconds(200), ct);
        }
    }

    private static long PeriodOf(DateTimeOffset time) => time.ToUnixTimeSeconds() / (long)TotpPeriod.TotalSeconds;

    private static DateTimeOffset StartOf(long period) =>
        DateTimeOffset.FromUnixTimeSeconds(period * (long)TotpPeriod.TotalSeconds);

    private static void DeleteSiteDirectory(string siteDirectory)
    {
        try
        {
            Directory.Delete(siteDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>Stops gunicorn (TERM by its PID; killed after 15 s) and deletes the site folder.</summary>
    public async ValueTask DisposeAsync()
    {
        await _process.StopAsync(TimeSpan.FromSeconds(15));
        DeleteSiteDirectory(SiteDirectory);
    }
}
