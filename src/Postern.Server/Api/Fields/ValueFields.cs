using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Postern.Server.Api;

/// <summary>DRF's IntegerField: numbers and numeric text (<c>"12"</c>, <c>"12.0"</c>), within the declared bounds.</summary>
public sealed partial class IntegerField<TRecord>(string name, Func<TRecord, long?>? get = null)
    : Field<TRecord, long?>(name, get), INumberLimits
{
    /// <summary>DRF refuses longer text before trying to read it.</summary>
    private const int MaxStringLength = 1000;

    public long? MinValue { get; init; }
    public long? MaxValue { get; init; }

    public override string MetadataType => "integer";
    public override FormInputKind FormInput => FormInputKind.Number;

    protected override bool TryConvert(FieldValue raw, ValidationContext context, List<string> problems, out long? value)
    {
        value = null;
        string text;
        if (raw.LastFormValue is { } form)
        {
            text = form;
        }
        else
        {
            var json = raw.Json!.Value;
            if (json.ValueKind == JsonValueKind.String)
                text = json.GetString()!;
            else if (json.ValueKind == JsonValueKind.Number)
                text = PythonValues.NumberText(json);
            else
            {
                problems.Add(FieldMessages.InvalidInteger);
                return false;
            }
        }
        if (text.Length > MaxStringLength)
        {
            problems.Add(FieldMessages.StringTooLarge);
            return false;
        }
        // DRF: int(re.sub(r'\.0*\s*$', '', str(data))), so "3.0" and "3.00 " are 3 and "3.5" is not an integer.
        if (!PythonValues.TryParseInt(TrailingZeroFraction().Replace(text, ""), out var number))
        {
            problems.Add(FieldMessages.InvalidInteger);
            return false;
        }
        value = number;
        return true;
    }

    [GeneratedRegex(@"\.0*\s*$")]
    private static partial Regex TrailingZeroFraction();

    protected override IEnumerable<FieldValidator<long?>> BuiltInValidators()
    {
        if (MaxValue is { } max)
            yield return new CheckValidator<long?>(n => n > max ? FieldMessages.MaxValue(max) : null);
        if (MinValue is { } min)
            yield return new CheckValidator<long?>(n => n < min ? FieldMessages.MinValue(min) : null);
    }

    protected override void Write(Utf8JsonWriter writer, long? value, ApiLinks links) => writer.WriteNumberValue(value!.Value);

    internal override void DescribeConstraints(JsonObject info)
    {
        if (MinValue is { } min)
            info["min_value"] = min;
        if (MaxValue is { } max)
            info["max_value"] = max;
    }

    internal override JsonObject ValueSchema()
    {
        var schema = new JsonObject { ["type"] = "integer", ["format"] = "int64" };
        if (MinValue is { } min)
            schema["minimum"] = min;
        if (MaxValue is { } max)
            schema["maximum"] = max;
        return schema;
    }
}

/// <summary>
/// DRF's BooleanField: true/false, 1/0 and their spellings in text (<c>"yes"</c>, <c>"off"</c>, ...). On an HTML form an
/// unticked box sends nothing, which means false.
/// </summary>
public sealed class BooleanField<TRecord>(string name, Func<TRecord, bool>? get = null) : Field<TRecord, bool>(name, get)
{
    private static readonly HashSet<string> TrueText = ["t", "y", "yes", "true", "on", "1"];
    private static readonly HashSet<string> FalseText = ["f", "n", "no", "false", "off", "0"];

    public override string MetadataType => "boolean";
    public override FormInputKind FormInput => FormInputKind.Checkbox;

    protected override bool TryConvert(FieldValue raw, ValidationContext context, List<string> problems, out bool value)
    {
        value = false;
        if (raw.LastFormValue is { } form)
            return FromText(form, problems, out value);
        var json = raw.Json!.Value;
        switch (json.ValueKind)
        {
            case JsonValueKind.True:
                value = true;
                return true;
            case JsonValueKind.False:
                return true;
            case JsonValueKind.String:
                return FromText(json.GetString()!, problems, out value);
            case JsonValueKind.Number when json.TryGetDouble(out var number) && number is 0 or 1:
                // Python compares 1.0 == 1 and 0.0 == 0, so both are in DRF's sets.
                value = number == 1;
                return true;
            default:
                problems.Add(FieldMessages.InvalidBoolean);
                return false;
        }
    }

    private static bool FromText(string text, List<string> problems, out bool value)
    {
        var lower = text.ToLowerInvariant();
        value = TrueText.Contains(lower);
        if (value || FalseText.Contains(lower))
            return true;
        problems.Add(FieldMessages.InvalidBoolean);
        return false;
    }

    protected override bool TryEmptyFormValue(out bool value)
    {
        value = false;
        return true;
    }

    protected override void Write(Utf8JsonWriter writer, bool value, ApiLinks links) => writer.WriteBooleanValue(value);

    internal override JsonObject ValueSchema() => new() { ["type"] = "boolean" };
}

/// <summary>
/// DRF's DateTimeField with USE_TZ: ISO 8601 in and out, UTC written with <c>Z</c>, microseconds only when there are any.
/// </summary>
public sealed class DateTimeField<TRecord>(string name, Func<TRecord, DateTimeOffset?>? get = null)
    : Field<TRecord, DateTimeOffset?>(name, get)
{
    public override string MetadataType => "datetime";
    public override FormInputKind FormInput => FormInputKind.DateTime;

    protected override bool TryConvert(FieldValue raw, ValidationContext context, List<string> problems, out DateTimeOffset? value)
    {
        value = null;
        var text = raw.LastFormValue ?? (raw.Json!.Value.ValueKind == JsonValueKind.String ? raw.Json.Value.GetString() : null);
        if (text is not null && IsoDateTime.TryParse(text, out var parsed))
        {
            value = parsed;
            return true;
        }
        problems.Add(FieldMessages.InvalidDateTime);
        return false;
    }

    protected override void Write(Utf8JsonWriter writer, DateTimeOffset? value, ApiLinks links) =>
        writer.WriteStringValue(IsoDateTime.Format(value!.Value));

    internal override JsonObject ValueSchema() => new() { ["type"] = "string", ["format"] = "date-time" };
}

/// <summary>DRF's and Django's ISO 8601 date-times.</summary>
public static partial class IsoDateTime
{
    /// <summary>DRF's output: ISO 8601 with microseconds when there are any, UTC as <c>Z</c>.</summary>
    public static string Format(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        var format = utc.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";
        return utc.ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Django's parse_datetime: a date, a T or space, hours and minutes, optional seconds and fraction, an optional
    /// offset (UTC if none).
    /// </summary>
    public static bool TryParse(string text, out DateTimeOffset value)
    {
        value = default;
        var match = Pattern().Match(text);
        if (!match.Success)
            return false;
        var fraction = match.Groups["fraction"].Value;
        var ticks = fraction.Length == 0 ? 0 : long.Parse(fraction.PadRight(7, '0')[..7], CultureInfo.InvariantCulture);
        var offset = TimeSpan.Zero;
        var zone = match.Groups["zone"].Value;
        if (zone.Length > 0 && zone != "Z")
        {
            var sign = zone[0] == '-' ? -1 : 1;
            var digits = zone[1..].Replace(":", "", StringComparison.Ordinal);
            offset = TimeSpan.FromHours(int.Parse(digits[..2], CultureInfo.InvariantCulture))
                + TimeSpan.FromMinutes(digits.Length > 2 ? int.Parse(digits[2..], CultureInfo.InvariantCulture) : 0);
            offset = sign * offset;
        }
        try
        {
            value = new DateTimeOffset(
                int.Parse(match.Groups["year"].Value, CultureInfo.InvariantCulture),
                int.Parse(match.Groups["month"].Value, CultureInfo.InvariantCulture),
                int.Parse(match.Groups["day"].Value, CultureInfo.InvariantCulture),
                int.Parse(match.Groups["hour"].Value, CultureInfo.InvariantCulture),
                int.Parse(match.Groups["minute"].Value, CultureInfo.InvariantCulture),
                match.Groups["second"].Success ? int.Parse(match.Groups["second"].Value, CultureInfo.InvariantCulture) : 0,
                offset).AddTicks(ticks);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^\s*(?<year>\d{4})-(?<month>\d{1,2})-(?<day>\d{1,2})[T ](?<hour>\d{1,2}):(?<minute>\d{1,2})"
        + @"(?::(?<second>\d{1,2})(?:[.,](?<fraction>\d{1,6})\d*)?)?\s*(?<zone>Z|[+-]\d{2}(?::?\d{2})?)?\s*$")]
    private static partial Regex Pattern();
}
