using System.Globalization;

namespace Postern.Bench;

/// <summary>How the report writes numbers (MB are 10^6 bytes, as the targets count them).</summary>
public static class Format
{
    public static string Rate(double perSecond) =>
        perSecond >= 100
            ? perSecond.ToString("#,0", CultureInfo.InvariantCulture)
            : perSecond.ToString("0.00", CultureInfo.InvariantCulture);

    public static string Latency(long microseconds) => microseconds switch
    {
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{microseconds / 1e6:0.00} s"),
        >= 100_000 => string.Create(CultureInfo.InvariantCulture, $"{microseconds / 1e3:0} ms"),
        >= 10_000 => string.Create(CultureInfo.InvariantCulture, $"{microseconds / 1e3:0.0} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{microseconds / 1e3:0.00} ms"),
    };

    public static string Megabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:0.0} MB");

    public static string Times(double ratio) => ratio.ToString(ratio >= 10 ? "0" : "0.00", CultureInfo.InvariantCulture) + "×";

    public static string Percent(double ratio) => string.Create(CultureInfo.InvariantCulture, $"{ratio * 100:0}%");

    public static string Growth(SoakMemory soak) => string.Create(CultureInfo.InvariantCulture,
        $"{(soak.GrowthBytes >= 0 ? "+" : "")}{soak.GrowthBytes / 1e6:0.0} MB after warm-up (start {Megabytes(soak.StartBytes)}"
        + $", after {soak.WarmUpSeconds} s {Megabytes(soak.AfterWarmUpBytes)}, end {Megabytes(soak.EndBytes)}"
        + $", max {Megabytes(soak.MaxBytes)})");
}
