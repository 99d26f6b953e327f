using System.ComponentModel.DataAnnotations;

namespace Postern.Server.Audit;

/// <summary>The audit trail (<c>Postern:Audit</c>).</summary>
public sealed class AuditOptions
{
    public const string Section = "Postern:Audit";

    /// <summary>How long events are kept; older ones are deleted hourly. 0 keeps them forever.</summary>
    [Range(0, 36_500)]
    public int RetentionDays { get; set; } = 90;
}
