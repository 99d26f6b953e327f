using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Postern.Server.Api;

namespace Postern.Server.Tests;

/// <summary>
/// The field types no resource of the Django reference backend exposes (integers, booleans, date-times, choices), held to
/// DRF's own rules (rest_framework/fields.py): what each accepts, what it makes of it, and its exact messages.
/// </summary>
public sealed class FieldTypeTests
{
    private sealed record Row;

    private static readonly IntegerField<Row> Number = new("n") { MinValue = 0, MaxValue = 100 };
    private static readonly BooleanField<Row> Flag = new("flag");
    private static readonly DateTimeField<Row> When = new("when");
    private static readonly ChoiceField<Row> Colour = new("colour") { Choices = [("red", "Red"), ("1", "One")] };
    private static readonly IntegerField<Row> Optional = new("optional") { Required = false, AllowNull = true };

    private static readonly JsonSerializerOptions Readable = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static async Task<(ValidatedData? Data, string? Errors)> ValidateAsync(string body, string contentType = "application/json",
        IEnumerable<Field>? fields = null)
    {
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().BuildServiceProvider(),
        };
        context.Request.Method = "POST";
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        var request = new ApiRequest(context, null, "POST", new RouteTable([], []));
        try
        {
            return (await Serializer.ValidateAsync(request, fields ?? [Number], null, partial: false), null);
        }
        catch (ApiValidationException e)
        {
            return (null, e.Errors.ToJson().ToJsonString(Readable));
        }
    }

    [Theory]
    [InlineData("12", 12)]
    [InlineData("\"12\"", 12)]
    [InlineData("\"12.0\"", 12)]
    [InlineData("\" 12 \"", 12)]
    [InlineData("\"1_0\"", 10)]
    [InlineData("12.0", 12)]
    [InlineData("1e1", 10)]
    [InlineData("\"+7\"", 7)]
    [InlineData("100", 100)]
    [InlineData("0", 0)]
    public async Task IntegersAreReadAsPythonsIntReadsThem(string json, long expected)
    {
        var (data, errors) = await ValidateAsync($$"""{"n": {{json}}}""");
        Assert.True(errors is null, errors);
        Assert.Equal(expected, data!.Get(Number));
    }

    [Theory]
    [InlineData("\"1.5\"", "A valid integer is required.")]
    [InlineData("1.5", "A valid integer is required.")]
    [InlineData("true", "A valid integer is required.")]
    [InlineData("\"abc\"", "A valid integer is required.")]
    [InlineData("\"\"", "A valid integer is required.")]
    [InlineData("[1]", "A valid integer is required.")]
    [InlineData("\"1__0\"", "A valid integer is required.")]
    [InlineData("101", "Ensure this value is less than or equal to 100.")]
    [InlineData("-1", "Ensure this value is greater than or equal to 0.")]
    [InlineData("null", "This field may not be null.")]
    public async Task BadIntegersGetDrfsMessages(string json, string message)
    {
        var (_, errors) = await ValidateAsync($$"""{"n": {{json}}}""");
        Assert.Equal(JsonSerializer.Serialize(new Dictionary<string, string[]> { ["n"] = [message] }, Readable), errors);
    }

    [Fact]
    public async Task AnIntegerWrittenInOverAThousandCharactersIsRefusedUnread()
    {
        var (_, errors) = await ValidateAsync($$"""{"n": "{{new string('1', 1001)}}"}""");
        Assert.Equal("""{"n":["String value too large."]}""", errors);
    }

    [Fact]
    public async Task AMissingRequiredFieldIsRequired()
    {
        var (_, errors) = await ValidateAsync("{}");
        Assert.Equal("""{"n":["This field is required."]}""", errors);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("\"yes\"", true)]
    [InlineData("\"Off\"", false)]
    [InlineData("\"1\"", true)]
    [InlineData("\"T\"", true)]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("1.0", true)]
    [InlineData("0.0", false)]
    public async Task BooleansAcceptDrfsSpellings(string json, bool expected)
    {
        var (data, errors) = await ValidateAsync($$"""{"flag": {{json}}}""", fields: [Flag]);
        Assert.True(errors is null, errors);
        Assert.Equal(expected, data!.Get(Flag));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("\"maybe\"")]
    [InlineData("[]")]
    [InlineData("\"\"")]
    public async Task OtherBooleansAreRefused(string json)
    {
        var (_, errors) = await ValidateAsync($$"""{"flag": {{json}}}""", fields: [Flag]);
        Assert.Equal("""{"flag":["Must be a valid boolean."]}""", errors);
    }

    [Fact]
    public async Task AnUntickedBoxOnAFormIsFalse()
    {
        var (data, errors) = await ValidateAsync("other=1", "application/x-www-form-urlencoded", [Flag]);
        Assert.True(errors is null, errors);
        Assert.False(data!.Get(Flag));
    }

    [Fact]
    public async Task AnEmptyFormValueOfAnOptionalNullableFieldIsNull()
    {
        var (data, errors) = await ValidateAsync("optional=", "application/x-www-form-urlencoded", [Optional]);
        Assert.True(errors is null, errors);
        Assert.True(data!.Has(Optional));
        Assert.Null(data.Get(Optional));
    }

    [Theory]
    [InlineData("2026-12-04T10:20:30Z", "2026-12-04T10:20:30Z")]
    [InlineData("2026-12-04 10:20", "2026-12-04T10:20:00Z")]
    [InlineData("2026-12-04T10:20:30.123456+01:00", "2026-12-04T09:20:30.123456Z")]
    [InlineData("2026-12-04T10:20:30,5-02:30", "2026-12-04T12:50:30.500000Z")]
    public async Task DateTimesAreIso8601(string text, string written)
    {
        var (data, errors) = await ValidateAsync($$"""{"when": "{{text}}"}""", fields: [When]);
        Assert.True(errors is null, errors);
        Assert.Equal(written, IsoDateTime.Format(data!.Get(When)!.Value));
    }

    [Theory]
    [InlineData("\"2026-12-04\"")]
    [InlineData("\"nonsense\"")]
    [InlineData("\"2026-13-04T10:20\"")]
    [InlineData("5")]
    public async Task OtherDateTimesAreRefused(string json)
    {
        var (_, errors) = await ValidateAsync($$"""{"when": {{json}}}""", fields: [When]);
        Assert.Equal(
            JsonSerializer.Serialize(new Dictionary<string, string[]> { ["when"] = [FieldMessages.InvalidDateTime] }, Readable), errors);
    }

    [Theory]
    [InlineData("\"red\"", "red")]
    [InlineData("1", "1")]
    [InlineData("\"1\"", "1")]
    public async Task ChoicesAreMatchedAsText(string json, string expected)
    {
        var (data, errors) = await ValidateAsync($$"""{"colour": {{json}}}""", fields: [Colour]);
        Assert.True(errors is null, errors);
        Assert.Equal(expected, data!.Get(Colour));
    }

    [Fact]
    public async Task AnUnknownChoiceIsNamed()
    {
        var (_, errors) = await ValidateAsync("""{"colour": "blue"}""", fields: [Colour]);
        Assert.Equal("""{"colour":["\"blue\" is not a valid choice."]}""", errors);
    }

    [Theory]
    [InlineData(5.0, "5.0")]
    [InlineData(1e100, "1e+100")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1e-05")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(123.456, "123.456")]
    public void FloatsAreWrittenAsPythonsReprWritesThem(double value, string expected) =>
        Assert.Equal(expected, PythonValues.FloatRepr(value));
}
