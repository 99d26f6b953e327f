using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Postern.Testing;

/// <summary>What an <see cref="NginxProxy"/> fronts and how it listens.</summary>
public sealed record NginxProxyOptions
{
    /// <summary>The backends, e.g. <c>http://127.0.0.1:8001/</c>; more than one are balanced round-robin.</summary>
    public required IReadOnlyList<Uri> Upstreams { get; init; }

    /// <summary>Serve HTTPS with a self-signed certificate made at start (CN=localhost, SAN IP:127.0.0.1 and DNS:localhost).</summary>
    public bool Tls { get; init; } = true;

    /// <summary>The loopback port to listen on; a free one when null.</summary>
    public int? Port { get; init; }

    /// <summary>
    /// The folder nginx serves at <c>/</c> (the frontend's built files, <see cref="FrontendFiles.BuiltFolder"/>), or null for
    /// none: then <c>/</c> is 404, as without a frontend in compose.
    /// </summary>
    public string? FrontendRoot { get; init; }

    /// <summary>
    /// The Django project's instances, for deploy/with-django/nginx.conf.template: with any, that template is run (Postern
    /// at its paths, <see cref="Upstreams"/>; Django at every other one) instead of deploy/nginx/postern.conf.template.
    /// </summary>
    public IReadOnlyList<Uri> DjangoUpstreams { get; init; } = [];

    /// <summary>nginx's <c>worker_processes</c>: 1 for the tests; a benchmark may ask for <c>auto</c> (one per core, as nginx's image runs).</summary>
    public string WorkerProcesses { get; init; } = "1";

    /// <summary>
    /// Buffer the access log (64 KB, flushed every second) rather than writing each line as its request ends: for a benchmark.
    /// Tests that read the log right after a request leave it off.
    /// </summary>
    public bool BufferAccessLog { get; init; }
}

/// <summary>
/// Debian's nginx as a reverse proxy on 127.0.0.1, in the foreground (<c>daemon off</c>) with its own prefix
/// folder, configuration, pid file and logs in a temporary folder, so it never touches a system nginx.
/// It forwards what Django's <c>SECURE_PROXY_SSL_HEADER</c> and Postern's trusted forwarded headers read:
/// <c>X-Forwarded-Proto</c>, <c>X-Forwarded-Host</c>, and the client's <c>Host</c>. Dispose stops it.
/// Installing nginx and openssl is the test command's job (scripts/test.sh).
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    public const string NginxPath = "/usr/sbin/nginx";

    private readonly WatchedProcess _process;

    private NginxProxy(WatchedProcess process, string folder, Uri baseAddress, X509Certificate2? certificate)
    {
        _process = process;
        Folder = folder;
        BaseAddress = baseAddress;
        Certificate = certificate;
    }

    /// <summary>Where clients connect: <c>https://127.0.0.1:PORT/</c> (or http without TLS).</summary>
    public Uri BaseAddress { get; }

    /// <summary>The self-signed certificate nginx serves (its own trust root), or null without TLS.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>The prefix folder: nginx.conf, cert.pem, key.pem, error.log, access.log, nginx.pid.</summary>
    public string Folder { get; }

    public string ErrorLog => Path.Combine(Folder, "error.log");
    /// <summary>One line per request: <c>CLIENT "METHOD URI PROTOCOL" STATUS upstream=ADDRESS</c>.</summary>
    public string AccessLog => Path.Combine(Folder, "access.log");

    /// <summary>A cookie-less, redirect-less client that trusts this proxy's certificate and nothing else.</summary>
    public HttpClient CreateRawClient() => RawHttp.CreateClient(BaseAddress, Certificate);

    public static Task<NginxProxy> StartTlsAsync(Uri upstream) => StartAsync(new NginxProxyOptions { Upstreams = [upstream] });

    public static async Task<NginxProxy> StartAsync(NginxProxyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Upstreams.Count == 0)
            throw new ArgumentException("An nginx proxy needs at least one upstream.", nameof(options));
        if (!File.Exists(NginxPath))
            throw new InvalidOperationException(
                $"nginx is not installed ({NginxPath} is missing): run scripts/test.sh as root, or apt-get install nginx openssl.");

        var folder = Directory.CreateTempSubdirectory("postern-nginx-").FullName;
        // nginx's workers drop to nobody when the master runs as root; they must reach the temp paths below.
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(folder,
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute
                | UnixFileMode.OtherExecute);
        X509Certificate2? certificate = null;
        try
        {
            if (options.Tls)
                certificate = await MakeCertificateAsync(folder);
            var port = options.Port ?? DjangoPeer.FreePort();
            var configuration = Path.Combine(folder, "nginx.conf");
            await File.WriteAllTextAsync(configuration, Configuration(options, folder, port));

            // Under the watchdog: nginx does not die with its parent, and must not linger on its port after a crashed test host.
            var process = await WatchedProcess.StartAsync(NginxPath,
                ["-p", folder + "/", "-c", configuration, "-e", Path.Combine(folder, "error.log"), "-g", "daemon off;"]);
            var nginxPid = process.Pid;

            var proxy = new NginxProxy(process, folder, new Uri($"{(options.Tls ? "https" : "http")}://127.0.0.1:{port}/"), certificate);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < deadline && !process.HasExited)
            {
                // A bare TCP accept could be someone else's listener on the port; nginx writes its pid file only once it has bound.
                if (await WrotePidAsync(proxy, nginxPid) && await AcceptsAsync(port))
                    return proxy;
                await Task.Delay(100);
            }
            var why = process.HasExited ? $"exited with code {process.ExitCode}" : "did not listen within 20 s";
            // Read it all before dispose removes the folder.
            var log = File.Exists(proxy.ErrorLog) ? await File.ReadAllTextAsync(proxy.ErrorLog) : "(no error.log)";
            var message = $"nginx on 127.0.0.1:{port} {why}.\nconfiguration:\n{await File.ReadAllTextAsync(configuration)}"
                + $"\noutput:\n{process.Errors}\nerror.log:\n{log}";
            await proxy.DisposeAsync();
            certificate = null; // disposed with the proxy
            throw new InvalidOperationException(message);
        }
        catch
        {
            certificate?.Dispose();
            TryDelete(folder);
            throw;
        }
    }

    /// <summary>deploy/nginx/postern.conf.template: the proxy configuration docker-compose uses, which these tests run.</summary>
    public static string TemplatePath => RepositoryFiles.Find("deploy/nginx/postern.conf.template");

    /// <summary>
    /// The nginx.conf for these options: a main context with every path inside <paramref name="folder"/>, around
    /// deploy/nginx/postern.conf.template with its placeholders replaced (as compose's envsubst does).
    /// </summary>
    public static string Configuration(NginxProxyOptions options, string folder, int port)
    {
        ArgumentNullException.ThrowIfNull(options);
        string At(string name) => Path.Combine(folder, name);
        var config = new StringBuilder();
        // No user directive: as root the workers run as nobody, otherwise as the caller.
        config.AppendLine(CultureInfo.InvariantCulture,
            $"worker_processes {options.WorkerProcesses};\npid {At("nginx.pid")};\nerror_log {At("error.log")} info;");
        config.AppendLine("events { worker_connections 1024; }");
        config.AppendLine("http {");
        // Which instance served each request, so tests can see the round-robin.
        config.AppendLine("  log_format postern_upstream '$remote_addr \"$request\" $status upstream=$upstream_addr request_id=$request_id';");
        config.AppendLine(CultureInfo.InvariantCulture,
            $"  access_log {At("access.log")} postern_upstream{(options.BufferAccessLog ? " buffer=64k flush=1s" : "")};");
        // The compiled-in temp paths live under /var/lib/nginx; keep everything in our own folder.
        foreach (var temp in new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" })
            config.AppendLine(CultureInfo.InvariantCulture, $"  {temp}_temp_path {At(temp + "_temp")};");
        if (options.Tls)
            config.AppendLine(CultureInfo.InvariantCulture, $"  ssl_certificate {At("cert.pem")};\n  ssl_certificate_key {At("key.pem")};");
        var listen = $"127.0.0.1:{port}{(options.Tls ? " ssl" : "")}";
        config.AppendLine(options.DjangoUpstreams.Count == 0
            ? RenderTemplate(File.ReadAllText(TemplatePath), options.Upstreams, listen, options.FrontendRoot)
            : RenderBesideDjangoTemplate(File.ReadAllText(BesideDjangoTemplatePath), options.Upstreams, options.DjangoUpstreams, listen));
        config.AppendLine("}");
        return config.ToString();
    }

    /// <summary>deploy/with-django/nginx.conf.template: Postern beside a Django project, on one origin.</summary>
    public static string BesideDjangoTemplatePath => RepositoryFiles.Find("deploy/with-django/nginx.conf.template");

    public const string DjangoUpstreamServersPlaceholder = "${DJANGO_UPSTREAM_SERVERS}";

    /// <summary>The beside-Django template with its placeholders replaced; fails if the template no longer has them.</summary>
    public static string RenderBesideDjangoTemplate(string template, IEnumerable<Uri> upstreams, IEnumerable<Uri> django, string listen)
    {
        ArgumentNullException.ThrowIfNull(template);
        foreach (var placeholder in new[] { UpstreamServersPlaceholder, DjangoUpstreamServersPlaceholder, ListenPlaceholder })
        {
            if (!template.Contains(placeholder, StringComparison.Ordinal))
                throw new InvalidOperationException($"The nginx template has no {placeholder}.");
        }
        static string Servers(IEnumerable<Uri> of) => string.Join(" ", of.Select(upstream => $"server {upstream.Authority};"));
        return template.Replace(UpstreamServersPlaceholder, Servers(upstreams), StringComparison.Ordinal)
            .Replace(DjangoUpstreamServersPlaceholder, Servers(django), StringComparison.Ordinal)
            .Replace(ListenPlaceholder, listen, StringComparison.Ordinal);
    }

    public const string UpstreamServersPlaceholder = "${POSTERN_UPSTREAM_SERVERS}";
    public const string ListenPlaceholder = "${POSTERN_LISTEN}";
    public const string FrontendRootPlaceholder = "${POSTERN_FRONTEND_ROOT}";

    /// <summary>
    /// The template with its placeholders replaced (<paramref name="frontendRoot"/> null: empty, no frontend); fails if the
    /// template no longer has them.
    /// </summary>
    public static string RenderTemplate(string template, IEnumerable<Uri> upstreams, string listen, string? frontendRoot = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        foreach (var placeholder in new[] { UpstreamServersPlaceholder, ListenPlaceholder, FrontendRootPlaceholder })
        {
            if (!template.Contains(placeholder, StringComparison.Ordinal))
                throw new InvalidOperationException($"The nginx template has no {placeholder}.");
        }
        if (frontendRoot is not null && (!Path.IsPathFullyQualified(frontendRoot) || frontendRoot.IndexOfAny(['"', '\\', '$', ';', '\n']) >= 0))
            throw new ArgumentException($"The frontend root must be an absolute path nginx can take as it is: {frontendRoot}", nameof(frontendRoot));
        var servers = string.Join(" ", upstreams.Select(upstream => $"server {upstream.Authority};"));
        return template.Replace(UpstreamServersPlaceholder, servers, StringComparison.Ordinal)
            .Replace(ListenPlaceholder, listen, StringComparison.Ordinal)
            .Replace(FrontendRootPlaceholder, frontendRoot?.TrimEnd('/') ?? "", StringComparison.Ordinal);
    }

    private static async Task<X509Certificate2> MakeCertificateAsync(string folder)
    {
        var start = new ProcessStartInfo("openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", Path.Combine(folder, "key.pem"), "-out", Path.Combine(folder, "cert.pem")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process openssl;
        try
        {
            openssl = Process.Start(start) ?? throw new InvalidOperationException("Could not start openssl.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("openssl is not installed: run scripts/test.sh as root, or apt-get install openssl.", e);
        }
        using (openssl)
        {
            var stderr = openssl.StandardError.ReadToEndAsync();
            await openssl.StandardOutput.ReadToEndAsync();
            await openssl.WaitForExitAsync();
            if (openssl.ExitCode != 0)
                throw new InvalidOperationException(
                    $"openssl could not make a test certificate (exit {openssl.ExitCode}):\n{await stderr}");
        }
        return X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(folder, "cert.pem")));
    }

    private static async Task<bool> WrotePidAsync(NginxProxy proxy, int pid)
    {
        try
        {
            var text = await File.ReadAllTextAsync(Path.Combine(proxy.Folder, "nginx.pid"));
            return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var written) && written == pid;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _process.StopAsync(TimeSpan.FromSeconds(10));
        Certificate?.Dispose();
        TryDelete(Folder);
    }
}
