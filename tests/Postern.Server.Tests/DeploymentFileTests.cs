using Postern.Testing;
using YamlDotNet.RepresentationModel;

namespace Postern.Server.Tests;

/// <summary>
/// deploy/docker-compose.yml and deploy/Dockerfile hold what the deployment depends on. There is no Docker engine
/// here, so they are parsed, not run; the nginx template they use is run for real in <see cref="BehindNginxTests"/>.
/// </summary>
public sealed class DeploymentFileTests
{
    private static YamlMappingNode Compose()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(RepositoryFiles.Find("deploy/docker-compose.yml"));
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents.Single().RootNode;
    }

    private static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node)[key];

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value ?? "";

    private static IEnumerable<string> Sequence(YamlNode node, string key) =>
        ((YamlSequenceNode)((YamlMappingNode)node)[key]).Children.Select(child => ((YamlScalarNode)child).Value ?? "");

    private static YamlMappingNode Service(string name) => Map(Map(Compose(), "services"), name);

    [Fact]
    public void ComposeHasTheFourServicesAndNamedVolumes()
    {
        var services = Map(Compose(), "services").Children
            .Where(service => !((YamlMappingNode)service.Value).Children.ContainsKey("profiles"))
            .Select(service => ((YamlScalarNode)service.Key).Value);
        Assert.Equal(["backend", "db", "frontend", "redis"], services.Order());
        Assert.Equal(["db-data", "grafana-data", "prometheus-data", "redis-data"],
            Map(Compose(), "volumes").Children.Keys.Select(key => ((YamlScalarNode)key).Value).Order());
    }

    /// <summary>
    /// The monitoring profile: Prometheus and Grafana only with <c>--profile monitoring</c>, on the host's loopback, with the
    /// files of deploy/ mounted; the backends' metrics listener on the compose network only (MetricsTests checks the
    /// Prometheus configuration with promtool and the dashboard's metric names).
    /// </summary>
    [Fact]
    public void TheMonitoringProfileScrapesEveryBackendAndShowsTheDashboard()
    {
        var backend = Service("backend");
        Assert.Equal("${POSTERN_METRICS_URLS-http://0.0.0.0:9464}", Scalar(Map(backend, "environment"), "Postern__Metrics__Urls"));
        Assert.Contains("9464", Sequence(backend, "expose"));
        Assert.False(backend.Children.ContainsKey("ports"));

        var prometheus = Service("prometheus");
        Assert.Equal(["monitoring"], Sequence(prometheus, "profiles"));
        Assert.Contains("./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro", Sequence(prometheus, "volumes"));
        Assert.All(Sequence(prometheus, "ports"), port => Assert.StartsWith("127.0.0.1:", port, StringComparison.Ordinal));
        var config = File.ReadAllText(RepositoryFiles.Find("deploy/prometheus/prometheus.yml"));
        Assert.Contains("names: [backend]", config, StringComparison.Ordinal);
        Assert.Contains("port: 9464", config, StringComparison.Ordinal);

        var grafana = Service("grafana");
        Assert.Equal(["monitoring"], Sequence(grafana, "profiles"));
        Assert.Contains("./grafana/provisioning:/etc/grafana/provisioning:ro", Sequence(grafana, "volumes"));
        Assert.Contains("./grafana/dashboards:/var/lib/grafana/dashboards:ro", Sequence(grafana, "volumes"));
        Assert.All(Sequence(grafana, "ports"), port => Assert.StartsWith("127.0.0.1:", port, StringComparison.Ordinal));
        Assert.Contains("url: http://prometheus:9090",
            File.ReadAllText(RepositoryFiles.Find("deploy/grafana/provisioning/datasources/prometheus.yml")), StringComparison.Ordinal);
        Assert.Contains("path: /var/lib/grafana/dashboards",
            File.ReadAllText(RepositoryFiles.Find("deploy/grafana/provisioning/dashboards/postern.yml")), StringComparison.Ordinal);
        RepositoryFiles.Find("deploy/grafana/dashboards/postern.json");

        // nginx passes its request id, which the backends take from it (they trust it: TrustedProxyCount).
        Assert.Contains("proxy_set_header X-Request-Id $request_id;",
            File.ReadAllText(RepositoryFiles.Find("deploy/nginx/postern.conf.template")), StringComparison.Ordinal);
    }

    [Fact]
    public void TheBackendIsBuiltFromTheDockerfileScalesAndGetsItsSettings()
    {
        var backend = Service("backend");
        Assert.Equal("deploy/Dockerfile", Scalar(Map(backend, "build"), "dockerfile"));
        Assert.Equal("..", Scalar(Map(backend, "build"), "context"));
        Assert.True(Map(backend, "deploy").Children.ContainsKey("replicas"));
        // No published port and no container_name: either would stop "--scale backend=N".
        Assert.False(backend.Children.ContainsKey("ports"));
        Assert.False(backend.Children.ContainsKey("container_name"));
        var environment = Map(backend, "environment");
        Assert.StartsWith("postgres://", Scalar(environment, "POSTERN_DB"), StringComparison.Ordinal);
        Assert.Contains("@db:5432/", Scalar(environment, "POSTERN_DB"), StringComparison.Ordinal);
        Assert.Equal("redis:6379", Scalar(environment, "POSTERN_REDIS"));
        Assert.Contains("POSTERN_SECRET_KEY", Scalar(environment, "Postern__SecretKey"), StringComparison.Ordinal);
        Assert.Equal("true", Scalar(environment, "Postern__Proxy__TrustForwardedProto"));
        Assert.Equal("true", Scalar(environment, "Postern__Proxy__TrustForwardedHost"));
        Assert.Equal("1", Scalar(environment, "Postern__Proxy__TrustedProxyCount"));
        // nginx forwards the browser's Host: the names it may carry are allowed, the public one from .env.
        var hosts = Enumerable.Range(0, 4).Select(i => Scalar(environment, $"Postern__AllowedHosts__{i}")).ToList();
        Assert.Equal(["localhost", "127.0.0.1", "backend"], hosts[..3]);
        Assert.Contains("POSTERN_PUBLIC_HOST", hosts[3], StringComparison.Ordinal);
        Assert.Contains("POSTERN_PUBLIC_HOST=", File.ReadAllText(RepositoryFiles.Find("deploy/.env.example")), StringComparison.Ordinal);
    }

    [Fact]
    public void TheFrontendIsNginxWithTheBuiltFilesOnPort80AndRendersTheOneNginxTemplate()
    {
        var frontend = Service("frontend");
        Assert.Equal("deploy/frontend/Dockerfile", Scalar(Map(frontend, "build"), "dockerfile"));
        Assert.Equal("..", Scalar(Map(frontend, "build"), "context"));
        Assert.Contains(Sequence(frontend, "ports"), port => port.EndsWith(":80", StringComparison.Ordinal));
        // The image renders /etc/nginx/templates/X.template into /etc/nginx/conf.d/X: default.conf replaces its stock site.
        Assert.Contains("./nginx/postern.conf.template:/etc/nginx/templates/default.conf.template:ro", Sequence(frontend, "volumes"));
        Assert.True(File.Exists(Path.Combine(RepositoryFiles.Root, "deploy", "nginx", "postern.conf.template")));
        var environment = Map(frontend, "environment");
        Assert.Equal("server backend:8000;", Scalar(environment, "POSTERN_UPSTREAM_SERVERS"));
        Assert.Equal("80", Scalar(environment, "POSTERN_LISTEN"));

        // Node builds postern-client, then the frontend on it; nginx:stable serves what was built, where compose says.
        var dockerfile = Dockerfile("deploy/frontend/Dockerfile");
        var stages = dockerfile.Where(i => i.Instruction == "FROM").Select(i => i.Arguments).ToList();
        Assert.Equal(2, stages.Count);
        Assert.StartsWith("node:", stages[0], StringComparison.Ordinal);
        Assert.Equal("nginx:stable AS runtime", stages[1]);
        var runs = dockerfile.Where(i => i.Instruction == "RUN").Select(i => i.Arguments).ToList();
        Assert.True(runs.IndexOf("cd clients/js && npm run build") < runs.IndexOf("cd deploy/frontend && npm ci --no-audit --no-fund"));
        Assert.Contains("cd deploy/frontend && npm run build", runs);
        var root = Scalar(environment, "POSTERN_FRONTEND_ROOT");
        Assert.Contains(dockerfile, i => i.Instruction == "COPY" && i.Arguments == $"--from=build /src/deploy/frontend/dist/ {root}/");
        Assert.Contains(dockerfile, i => i.Instruction == "COPY"
            && i.Arguments == "deploy/nginx/postern.conf.template /etc/nginx/templates/default.conf.template");
    }

    [Fact]
    public void ComposeSetsEveryPlaceholderOfTheNginxTemplate()
    {
        // The image's envsubst replaces only variables that are set: one compose forgets would reach nginx as text.
        var template = File.ReadAllText(NginxProxy.TemplatePath);
        var placeholders = System.Text.RegularExpressions.Regex.Matches(template, @"\$\{(\w+)\}")
            .Select(match => match.Groups[1].Value).Distinct().Order();
        Assert.Equal(["POSTERN_FRONTEND_ROOT", "POSTERN_LISTEN", "POSTERN_UPSTREAM_SERVERS"], placeholders);
        var environment = Map(Service("frontend"), "environment").Children.Keys.Select(key => ((YamlScalarNode)key).Value);
        Assert.All(placeholders, placeholder => Assert.Contains(placeholder, environment));
    }

    [Fact]
    public void PostgresAndRedisKeepTheirDataInVolumes()
    {
        var db = Service("db");
        Assert.StartsWith("postgres:17", Scalar(db, "image"), StringComparison.Ordinal);
        Assert.Contains("db-data:/var/lib/postgresql/data", Sequence(db, "volumes"));
        var redis = Service("redis");
        Assert.StartsWith("redis:7", Scalar(redis, "image"), StringComparison.Ordinal);
        Assert.Contains("redis-data:/data", Sequence(redis, "volumes"));
        Assert.Equal(["redis-server", "--appendonly", "yes"], Sequence(redis, "command"));
    }

    [Fact]
    public void TheBackendStartsOnceTheDatabaseAndRedisAnswer()
    {
        // Until Redis answers, the backend refuses writes (the first user, logins): starting earlier only makes noise.
        var dependsOn = Map(Service("backend"), "depends_on");
        Assert.Equal("service_healthy", Scalar(Map(dependsOn, "db"), "condition"));
        Assert.Equal("service_healthy", Scalar(Map(dependsOn, "redis"), "condition"));
        Assert.Equal(["CMD", "redis-cli", "ping"], Sequence(Map(Service("redis"), "healthcheck"), "test"));
    }

    [Fact]
    public void TheEnvExampleNamesEverySecretComposeRequires()
    {
        var example = File.ReadAllLines(RepositoryFiles.Find("deploy/.env.example"));
        var names = example.Where(line => line.Contains('=', StringComparison.Ordinal) && !line.StartsWith('#'))
            .Select(line => line[..line.IndexOf('=', StringComparison.Ordinal)]);
        var compose = File.ReadAllText(RepositoryFiles.Find("deploy/docker-compose.yml"));
        foreach (System.Text.RegularExpressions.Match required in System.Text.RegularExpressions.Regex.Matches(compose, @"\$\{(\w+):\?"))
            Assert.Contains(required.Groups[1].Value, names);
    }

    /// <summary>The Dockerfile's instructions, continuation lines joined, comments dropped.</summary>
    private static List<(string Instruction, string Arguments)> Dockerfile(string path = "deploy/Dockerfile")
    {
        var instructions = new List<(string, string)>();
        var pending = "";
        foreach (var raw in File.ReadAllLines(RepositoryFiles.Find(path)))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            line = pending + line;
            pending = "";
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            instructions.Add((line[..space].ToUpperInvariant(), line[(space + 1)..].Trim()));
        }
        return instructions;
    }

    [Fact]
    public void TheDockerfileBuildsWithTheSdkAndRunsOnTheAspNetRuntime()
    {
        var stages = Dockerfile().Where(i => i.Instruction == "FROM").Select(i => i.Arguments).ToList();
        Assert.Equal(["mcr.microsoft.com/dotnet/sdk:10.0 AS build", "mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime"], stages);
        Assert.Contains(Dockerfile(), i => i.Instruction == "RUN"
            && i.Arguments.StartsWith("dotnet publish src/Postern.Server/Postern.Server.csproj", StringComparison.Ordinal));
        Assert.Contains(Dockerfile(), i => i.Instruction == "COPY" && i.Arguments == "--from=build /app ./");
    }

    [Fact]
    public void TheRuntimeStageRunsAsANonRootUserOnPort8000WithAHealthcheck()
    {
        var runtime = Dockerfile()
            .SkipWhile(i => !(i.Instruction == "FROM" && i.Arguments.EndsWith("AS runtime", StringComparison.Ordinal)))
            .ToList();
        var user = Assert.Single(runtime, i => i.Instruction == "USER").Arguments;
        var userName = user.Split(':')[0];
        Assert.NotEqual("root", userName);
        Assert.NotEqual("0", userName);
        Assert.Equal("8000", Assert.Single(runtime, i => i.Instruction == "EXPOSE").Arguments);
        Assert.Equal("/data", Assert.Single(runtime, i => i.Instruction == "VOLUME").Arguments);
        Assert.Contains(runtime, i => i.Instruction == "ENV" && i.Arguments == "POSTERN_DB=/data/postern.sqlite3");
        var healthcheck = Assert.Single(runtime, i => i.Instruction == "HEALTHCHECK").Arguments;
        Assert.EndsWith("""CMD ["dotnet", "Postern.Server.dll", "healthcheck"]""", healthcheck, StringComparison.Ordinal);
        Assert.Equal("""["dotnet", "Postern.Server.dll", "serve", "--urls", "http://0.0.0.0:8000"]""",
            Assert.Single(runtime, i => i.Instruction == "ENTRYPOINT").Arguments);
        // The healthcheck command's default URL is the port the entrypoint listens on.
        Assert.Equal("http://127.0.0.1:8000/healthz", Commands.HealthCheckCommand.DefaultUrl);
    }
}
