using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Postern.Bench.Seed;
using Postern.Protocol;

namespace Postern.Bench;

/// <summary>
/// Issue 6's ceiling for logins: cores ÷ the time of one PBKDF2-SHA256 at the configured iterations,
/// timed here in the same run (the median of a few, on one thread) as Postern and Django hash.
/// </summary>
public sealed record HashBound(int Iterations, double SecondsPerHash, int Cores)
{
    public double LoginsPerSecond => Cores / SecondsPerHash;

    public static HashBound Measure(int runs, int iterations = DjangoPasswordHash.Django52Iterations)
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
        times.Sort();
        return new HashBound(iterations, times[times.Count / 2], Environment.ProcessorCount);
    }
}
