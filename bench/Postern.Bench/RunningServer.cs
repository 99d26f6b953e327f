using Postern.Bench.Servers;

namespace Postern.Bench;

/// <summary>A started server with its signed-in sessions and anonymous token pairs, as files for wrk.</summary>
public sealed class RunningServer(ServerKind kind, IBenchedServer process) : IAsyncDisposable
{
    /// <summary>Anonymous token pairs that logins rotate through (the cookie half is all a login needs).</summary>
    private const int TokenPairs = 8;

    public ServerKind Kind { get; } = kind;
    /// <summary>The server's process, or for --scale its deployment (nginx in front).</summary>
    public IBenchedServer Process { get; } = process;
    public IReadOnlyList<BenchSession> Sessions { get; private set; } = [BenchSession.Anonymous];
    public IReadOnlyList<BenchSession> TokenPairsForLogin { get; private set; } = [BenchSession.Anonymous];
    public string? SessionsFile { get; private set; }
    public string? TokenPairsFile { get; private set; }
    public long IdleResidentBytes { get; set; }
    public long PeakResidentBytes { get; private set; }

    /// <param name="infrastructure">The PostgreSQL cluster and Redis the --scale deployments share.</param>
    public static async Task<RunningServer> StartAsync(ServerKind kind, string folder, ScaleInfrastructure? infrastructure = null)
    {
        ScaleInfrastructure Shared() => infrastructure ?? throw new InvalidOperationException($"{kind.Title()} needs --scale's PostgreSQL and Redis.");
        IBenchedServer process = kind switch
        {
            ServerKind.PosternScaled => await ScaledDeployment.StartPosternAsync(Shared(), withRedis: true),
            ServerKind.PosternScaledPostgres => await ScaledDeployment.StartPosternAsync(Shared(), withRedis: false),
            ServerKind.DjangoScaled => await ScaledDeployment.StartDjangoAsync(Shared(), ServerKinds.DjangoScaledWorkers),
            ServerKind.Postern => await PosternServer.StartAsync(Directory.CreateDirectory(Path.Combine(folder, "postern")).FullName),
            ServerKind.Django => await DjangoPeerServer.StartAsync(),
            ServerKind.BareKestrel => await StartBaselineAsync(kind, "BareKestrel"),
            ServerKind.CookieAuth => await StartBaselineAsync(kind, "CookieAuth"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        return new RunningServer(kind, process);
    }

    private static Task<ServerProcess> StartBaselineAsync(ServerKind kind, string project)
    {
        var port = ServerProcess.FreePort();
        var dll = BuildOutput.Assembly(Path.Combine("bench", "Baselines", project), project);
        return ServerProcess.StartAsync(kind.Title(), ServerProcess.Dotnet(dll, port), port);
    }

    /// <summary>Signs in <paramref name="count"/> sessions (each a password hash) and fetches the token pairs for logins.</summary>
    public async Task SignInAsync(int count, string folder)
    {
        if (Kind.SignsIn())
        {
            Sessions = await BenchSession.ManyAsync(count, ct => BenchSession.SignInAsync(Process.BaseAddress, ct));
            TokenPairsForLogin = await BenchSession.ManyAsync(TokenPairs,
                ct => BenchSession.AnonymousTokenPairAsync(Process.BaseAddress, ct));
        }
        SessionsFile = await BenchSession.WriteFileAsync(Path.Combine(folder, $"{Kind.Key()}-sessions.tsv"), Sessions);
        TokenPairsFile = await BenchSession.WriteFileAsync(Path.Combine(folder, $"{Kind.Key()}-token-pairs.tsv"), TokenPairsForLogin);
    }

    public string? FileFor(Credentials credentials) => credentials switch
    {
        Credentials.SignedIn => SessionsFile,
        Credentials.AnonymousTokenPair => TokenPairsFile,
        _ => null,
    };

    public BenchSession SessionFor(Credentials credentials) => credentials switch
    {
        Credentials.SignedIn => Sessions[0],
        Credentials.AnonymousTokenPair => TokenPairsForLogin[0],
        _ => BenchSession.Anonymous,
    };

    /// <summary>Starts a new high-water mark of resident memory (for one scenario's peak).</summary>
    public void ResetPeak() => Process.ResetPeak();

    /// <summary>The peak since <see cref="ResetPeak"/>, also kept as the server's peak of the run.</summary>
    public long ReadPeak()
    {
        var peak = Process.PeakBytes;
        PeakResidentBytes = Math.Max(PeakResidentBytes, peak);
        return peak;
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
