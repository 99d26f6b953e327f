using System.Diagnostics;
using System.Globalization;

namespace Postern.Bench.Servers;

/// <summary>The Django reference backend on Django 5.2, under gunicorn (its run.sh: a fresh SQLite database, the seeded users).</summary>
public static class DjangoPeerServer
{
    public const int Workers = 2;
    public const string Name = "Django";

    public static Task<ServerProcess> StartAsync()
    {
        var port = ServerProcess.FreePort();
        var start = new ProcessStartInfo("bash");
        start.ArgumentList.Add(Path.Combine(BuildOutput.DjangoReferenceBackend(), "run.sh"));
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(Workers.ToString(CultureInfo.InvariantCulture));
        start.Environment["DJANGO"] = "5.2";
        return ServerProcess.StartAsync(Name, start, port);
    }
}
