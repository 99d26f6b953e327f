namespace Postern.Server.Api;

/// <summary>DRF's field messages, word for word: clients show them and match on them.</summary>
public static class FieldMessages
{
    public const string Required = "This field is required.";
    public const string Blank = "This field may not be blank.";
    public const string Null = "This field may not be null.";
    public const string NotAString = "Not a valid string.";
    public const string NullCharacters = "Null characters are not allowed.";
    public const string InvalidEmail = "Enter a valid email address.";
    public const string InvalidInteger = "A valid integer is required.";
    public const string StringTooLarge = "String value too large.";
    public const string InvalidBoolean = "Must be a valid boolean.";
    public const string InvalidDateTime =
        "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].";
    public const string EmptyList = "This list may not be empty.";
    public const string NoUrlMatch = "Invalid hyperlink - No URL match.";
    public const string IncorrectUrlMatch = "Invalid hyperlink - Incorrect URL match.";
    public const string ObjectDoesNotExist = "Invalid hyperlink - Object does not exist.";

    public static string MaxLength(int max) => $"Ensure this field has no more than {max} characters.";
    public static string MinLength(int min) => $"Ensure this field has at least {min} characters.";
    public static string MaxValue(long max) => $"Ensure this value is less than or equal to {max}.";
    public static string MinValue(long min) => $"Ensure this value is greater than or equal to {min}.";
    public static string InvalidChoice(string input) => $"\"{input}\" is not a valid choice.";
    /// <summary>DRF's ManyRelatedField max_length message.</summary>
    public static string TooManyItems(int limit) => $"Ensure this field has no more than {limit} elements.";

    public static string NotAList(string typeName) => $"Expected a list of items but got type \"{typeName}\".";
    public static string IncorrectUrlType(string typeName) => $"Incorrect type. Expected URL string, received {typeName}.";
}
