using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Postern.Bench.Seed;
using Postern.Protocol;

namespace Postern.Bench;

/// <summary>
/// Issue 6's ceiling for logins: cores ÷ the time of one PBKDF2-SHA256 at the configured iterations, timed here in
/// the same run on one thread, as Postern and Django hash. A virtual machine's cores do not run at one speed for
/// minutes on end, so it is timed both before and after the scenarios it bounds, and the median of all is taken.
/// </summary>
public sealed record HashBound(int Iterations, IReadOnlyList<double> Times, int Cores)
{
    public double SecondsPerHash => Times.Order().ElementAt(Times.Count / 2);

    public double LoginsPerSecond => Cores / SecondsPerHash;

    public static HashBound Measure(int runs, int iterations = DjangoPasswordHash.Django52Iterations) =>
        new(iterations, Time(runs, iterations), Environment.ProcessorCount);

    /// <summary>The same bound with <paramref name="runs"/> more timings.</summary>
    public HashBound AndAgain(int runs) => this with { Times = [.. Times, .. Time(runs, Iterations)] };

    private static List<double> Time(int runs, int iterations)
    {
        var password = Encoding.UTF8.GetBytes(SeedData.StaffPassword);
        var salt = Encoding.UTF8.GetBytes(DjangoPasswordHash.NewSalt());
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, 32);
            times.Add(clock.Elapsed.TotalSeconds);
        }
        return times;
    }
}
