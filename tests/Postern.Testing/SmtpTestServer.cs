using System.Globalization;
using System.Net.Sockets;
using System.Text;
using MimeKit;

namespace Postern.Testing;

/// <summary>
/// A real SMTP server for the tests: tests/smtp-capture/capture.py on Debian's python3-aiosmtpd, on a free loopback port,
/// keeping every message it accepts as a .eml file in a folder of its own (<see cref="Messages"/>, parsed with MimeKit; the
/// envelope in the headers <c>X-Capture-Mail-From</c> and <c>X-Capture-Rcpt-To</c>). A test may stop it and start it again
/// on the same port (an outage), or have it hang in the middle of a message (<see cref="Stalling"/>). Run under a
/// <see cref="WatchedProcess"/>, so it never outlives the test host; stopped by its own PID. Installing python3-aiosmtpd is
/// the test command's job (scripts/test.sh).
/// </summary>
public sealed class SmtpTestServer : IAsyncDisposable
{
    /// <summary>Debian's Python, which has Debian's aiosmtpd (a python3 earlier on the PATH may not).</summary>
    public const string PythonPath = "/usr/bin/python3";

    private readonly Dictionary<string, MimeMessage> _parsed = [];
    private WatchedProcess? _process;

    private SmtpTestServer(string folder, int port)
    {
        Folder = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The captured messages (NNNNNN.eml, in the order they arrived).</summary>
    public string Folder { get; }

    /// <summary>What <c>Postern:Email:SmtpUrl</c> takes to send here: plain SMTP on loopback.</summary>
    public string Url => $"smtp://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The running server's PID, or null while it is stopped.</summary>
    public int? Pid => _process?.Pid;

    /// <param name="user">With <paramref name="password"/>: the server offers AUTH (without TLS, on loopback) and takes
    /// messages only from a client that logged in as this user.</param>
    public static async Task<SmtpTestServer> StartAsync(string? user = null, string? password = null)
    {
        if (!File.Exists(PythonPath) || !File.Exists("/usr/lib/python3/dist-packages/aiosmtpd/__init__.py"))
            throw new InvalidOperationException(
                "aiosmtpd is not installed: run scripts/test.sh as root, or apt-get install python3-aiosmtpd.");
        var server = new SmtpTestServer(Directory.CreateTempSubdirectory("postern-smtp-").FullName, DjangoPeer.FreePort());
        try
        {
            if (user is not null)
                await File.WriteAllTextAsync(Path.Combine(server.Folder, "auth"), $"{user}\n{password}\n");
            await server.StartAgainAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>Starts the stopped server again on the same port and folder; returns once it greets a client.</summary>
    public async Task StartAgainAsync()
    {
        if (_process is not null)
            throw new InvalidOperationException("This SMTP server is running already.");
        _process = await WatchedProcess.StartAsync(PythonPath,
            [RepositoryFiles.Find("tests/smtp-capture/capture.py"), Port.ToString(CultureInfo.InvariantCulture), Folder]);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await GreetsAsync())
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                var why = _process.HasExited ? $"exited with code {_process.ExitCode}" : "did not greet within 30 s";
                var errors = _process.Errors;
                await StopAsync();
                throw new InvalidOperationException($"The SMTP server on port {Port} {why}.\n{errors}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Stops the server (TERM by its PID) and waits until it has exited: connections are refused from then on.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
            return;
        await _process.StopAsync(TimeSpan.FromSeconds(20));
        _process = null;
    }

    /// <summary>While true, the server never answers the end of a message's DATA: a sender hangs until it gives up or dies.</summary>
    public bool Stalling
    {
        get => File.Exists(Path.Combine(Folder, "stall"));
        set
        {
            if (value)
                File.WriteAllText(Path.Combine(Folder, "stall"), "");
            else
                File.Delete(Path.Combine(Folder, "stall"));
        }
    }

    /// <summary>How many messages have hung in DATA while <see cref="Stalling"/>.</summary>
    public int StalledCount => Directory.GetFiles(Folder, "stalled-*").Length;

    /// <summary>Every message accepted so far, in the order they arrived.</summary>
    public IReadOnlyList<MimeMessage> Messages
    {
        get
        {
            lock (_parsed)
            {
                var files = Directory.GetFiles(Folder, "*.eml").Where(file => file.EndsWith(".eml", StringComparison.Ordinal))
                    .Order(StringComparer.Ordinal).ToList();
                foreach (var file in files.Where(file => !_parsed.ContainsKey(file)))
                    _parsed[file] = MimeMessage.Load(file);
                return [.. files.Select(file => _parsed[file])];
            }
        }
    }

    /// <summary>The first message that <paramref name="match"/> accepts (any, if null), as soon as it arrives.</summary>
    /// <exception cref="TimeoutException">None arrived within <paramref name="timeout"/>.</exception>
    public async Task<MimeMessage> WaitForMessageAsync(Func<MimeMessage, bool>? match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Messages.FirstOrDefault(message => match?.Invoke(message) ?? true) is { } found)
                return found;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"No matching message reached the SMTP server within {timeout}; it has {Describe()}.");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> messages have arrived; returns them all.</summary>
    /// <exception cref="TimeoutException">Fewer arrived within <paramref name="timeout"/>.</exception>
    public async Task<IReadOnlyList<MimeMessage>> WaitForMessagesAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var messages = Messages;
            if (messages.Count >= count)
                return messages;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{count} messages expected within {timeout}; the SMTP server has {Describe()}.");
            await Task.Delay(50);
        }
    }

    private string Describe()
    {
        var messages = Messages;
        return messages.Count == 0 ? "none" : $"{messages.Count}: " + string.Join("; ", messages.Select(m => $"{m.To} \"{m.Subject}\""));
    }

    /// <summary>A fresh connection greeted with 220: the server is up and speaks SMTP.</summary>
    private async Task<bool> GreetsAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.ConnectAsync(System.Net.IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            var buffer = new byte[256];
            var read = await stream.ReadAsync(buffer, timeout.Token);
            var greeted = Encoding.ASCII.GetString(buffer, 0, read).StartsWith("220", StringComparison.Ordinal);
            await stream.WriteAsync("QUIT\r\n"u8.ToArray(), timeout.Token);
            return greeted;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
