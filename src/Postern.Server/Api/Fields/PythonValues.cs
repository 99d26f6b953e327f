using System.Globalization;
using System.Text.Json;

namespace Postern.Server.Api;

/// <summary>
/// How Python sees JSON values, which DRF's answers show: type names in messages (<c>received int</c>), the text
/// <c>str()</c> gives a number that a CharField accepts, and what <c>int()</c> accepts as an integer.
/// </summary>
public static class PythonValues
{
    public static string TypeName(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.String => "str",
        JsonValueKind.Number => json.TryGetInt64(out _) || IsIntegerLiteral(json) ? "int" : "float",
        JsonValueKind.True or JsonValueKind.False => "bool",
        JsonValueKind.Null => "NoneType",
        JsonValueKind.Array => "list",
        _ => "dict",
    };

    /// <summary>Python's str() of a JSON number: integers as written, floats as repr() writes them (<c>5.0</c>, <c>1e+100</c>).</summary>
    public static string NumberText(JsonElement number)
    {
        if (number.TryGetInt64(out var integer))
            return integer.ToString(CultureInfo.InvariantCulture);
        if (IsIntegerLiteral(number))
            return number.GetRawText().TrimStart('+');
        // Beyond double's range Python's float() is inf, as .NET's parse is; TryGetDouble refuses it, double.Parse does not.
        var value = number.TryGetDouble(out var parsed) ? parsed : double.Parse(number.GetRawText(), CultureInfo.InvariantCulture);
        return FloatRepr(value);
    }

    /// <summary>Python's repr() of a float: the shortest digits that round-trip, fixed from 1e-4 up to 1e16, else scientific.</summary>
    public static string FloatRepr(double value)
    {
        if (double.IsNaN(value))
            return "nan";
        if (double.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        // The shortest digits that round-trip, and the power of ten of the first one, from .NET's "R".
        var roundTrip = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        string digits;
        int exponent;
        var e = roundTrip.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            digits = roundTrip[..e].Replace(".", "", StringComparison.Ordinal);
            exponent = int.Parse(roundTrip[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        else
        {
            var point = roundTrip.IndexOf('.', StringComparison.Ordinal);
            var whole = point < 0 ? roundTrip : roundTrip[..point];
            var all = whole + (point < 0 ? "" : roundTrip[(point + 1)..]);
            digits = all.TrimStart('0');
            exponent = whole.Length - 1 - (all.Length - digits.Length);
        }
        digits = digits.TrimEnd('0');
        if (digits.Length == 0)
            return double.IsNegative(value) ? "-0.0" : "0.0";
        var sign = value < 0 ? "-" : "";
        if (exponent is >= -4 and < 16)
        {
            var point = exponent + 1;
            var fixedText = point <= 0
                ? "0." + new string('0', -point) + digits
                : point >= digits.Length
                    ? digits + new string('0', point - digits.Length) + ".0"
                    : digits[..point] + "." + digits[point..];
            return sign + fixedText;
        }
        var mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
        return $"{sign}{mantissa}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
    }

    /// <summary>A JSON number written without fraction or exponent is a Python int, however large.</summary>
    private static bool IsIntegerLiteral(JsonElement number)
    {
        var raw = number.GetRawText();
        return !raw.Contains('.', StringComparison.Ordinal) && !raw.Contains('e', StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Python's int() of a string: surrounding whitespace, a sign, decimal digits (any script's) with single underscores
    /// between them. False for anything else, or for a value beyond 64 bits (no stored id is that large).
    /// </summary>
    public static bool TryParseInt(string text, out long value)
    {
        value = 0;
        var span = text.AsSpan().Trim();
        var negative = false;
        if (span.Length > 0 && (span[0] == '+' || span[0] == '-'))
        {
            negative = span[0] == '-';
            span = span[1..];
        }
        if (span.Length == 0 || span[0] == '_' || span[^1] == '_')
            return false;
        decimal total = 0;
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i] == '_')
            {
                if (span[i - 1] == '_')
                    return false;
                continue;
            }
            var digit = CharUnicodeInfo.GetDecimalDigitValue(span[i]);
            if (digit < 0)
                return false;
            total = (total * 10) + digit;
            if (total > long.MaxValue + 1m)
                return false;
        }
        total = negative ? -total : total;
        if (total is > long.MaxValue or < long.MinValue)
            return false;
        value = (long)total;
        return true;
    }
}
