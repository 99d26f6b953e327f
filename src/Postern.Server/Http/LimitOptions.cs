using System.ComponentModel.DataAnnotations;

namespace Postern.Server.Http;

/// <summary>Request limits (<c>Postern:Limits</c>).</summary>
public sealed class LimitOptions
{
    public const string Section = "Postern:Limits";

    /// <summary>Larger bodies are refused with 413 before they are read.</summary>
    [Range(1024, int.MaxValue)]
    public long MaxRequestBodyBytes { get; set; } = 1_048_576;
}
