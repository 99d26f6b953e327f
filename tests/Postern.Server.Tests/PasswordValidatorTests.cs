using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Postern.Server.Accounts;
using Postern.Server.Hosting;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The password validators against Django 5.2 itself: one Python process validates a corpus of several hundred
/// passwords and users (<see cref="PasswordCorpus"/>) with Django's validators, and Postern's messages must be the same,
/// case for case. Python's text operations the validators rest on are compared code point by code point.
/// </summary>
public sealed class PasswordValidatorTests
{
    private const string DjangoValidators = "django.contrib.auth.password_validation.";
    private static readonly string[] EmailAndFirstName = ["email", "first_name"];
    private static readonly string[] LastNameAndUsername = ["last_name", "username"];

    [Fact]
    public async Task DjangosDefaultValidatorsGiveDjangosMessagesForEveryCaseOfTheCorpus()
    {
        var corpus = PasswordCorpus.Build();
        Assert.True(corpus.Count >= 300, $"{corpus.Count} cases");
        var group = new ValidatorGroup("Django's defaults", new Dictionary<string, string?>(),
            [
                new("UserAttributeSimilarityValidator"), new("MinimumLengthValidator"), new("CommonPasswordValidator"),
                new("NumericPasswordValidator"),
            ],
            corpus);
        var (helpTexts, results) = (await AskDjangoAsync([group]))[0];

        using var postern = PosternValidation.With(group.Settings);
        AssertSameAnswers(group, helpTexts, results, postern.Validation);
        // The corpus reaches every validator and every attribute, and passes as well as fails.
        var messages = results.SelectMany(r => r).ToHashSet();
        foreach (var expected in new[]
            {
                "The password is too similar to the username.", "The password is too similar to the first name.",
                "The password is too similar to the last name.", "The password is too similar to the email address.",
                "This password is too short. It must contain at least 8 characters.", "This password is too common.",
                "This password is entirely numeric.",
            })
        {
            Assert.Contains(expected, messages);
        }
        Assert.Contains(results, r => r.Count == 0);
        Assert.Contains(results, r => r.Count >= 3);
    }

    [Fact]
    public async Task OptionsGiveDjangosMessagesToo()
    {
        var folder = Directory.CreateTempSubdirectory("postern-passwords-").FullName;
        try
        {
            var plainList = Path.Combine(folder, "passwords.txt");
            await File.WriteAllTextAsync(plainList, "hunter2\n  spaced out  \nMixedCase\r\ncorrect horse\n\u00e9t\u00e9\n");
            var gzipList = Path.Combine(folder, "passwords.txt.gz");
            await using (var gzip = new GZipStream(File.Create(gzipList), CompressionLevel.Optimal))
                await gzip.WriteAsync(Encoding.UTF8.GetBytes("tr0ub4dor\nletmein\n"));

            var corpus = PasswordCorpus.Build();
            string[] listed = ["hunter2", "HUNTER2", " hunter2\t", "spaced out", "  SPACED OUT ", "mixedcase", "MixedCase", "\u00c9T\u00c9",
                "tr0ub4dor", "Tr0ub4dor\u3000", "letmein", "correct horse", "correcthorse", "password", "", "x"];
            var extra = listed.Select(p => new PasswordCase(p, "bob", "bob@example.org", "Robert", "Tables")).ToList();
            var groups = new[]
            {
                new ValidatorGroup("similarity 0.5 on the e-mail and first name, one character, a list of one's own",
                    new Dictionary<string, string?>
                    {
                        ["0:Name"] = "UserAttributeSimilarity",
                        ["0:Options:UserAttributes:0"] = "email",
                        ["0:Options:UserAttributes:1"] = "first_name",
                        ["0:Options:MaxSimilarity"] = "0.5",
                        ["1:Name"] = "MinimumLength",
                        ["1:Options:MinLength"] = "1",
                        ["2:Name"] = "CommonPassword",
                        ["2:Options:PasswordListPath"] = plainList,
                        ["3:Name"] = "NumericPassword",
                    },
                    [
                        new("UserAttributeSimilarityValidator", new() { ["user_attributes"] = EmailAndFirstName,
                            ["max_similarity"] = 0.5 }),
                        new("MinimumLengthValidator", new() { ["min_length"] = 1 }),
                        new("CommonPasswordValidator", new() { ["password_list_path"] = plainList }),
                        new("NumericPasswordValidator"),
                    ],
                    [.. extra, .. corpus.Where((_, i) => i % 3 == 0)]),
                new ValidatorGroup("similarity 0.1 (the length ratio's edge), twelve characters, a gzipped list, in another order",
                    new Dictionary<string, string?>
                    {
                        ["0:Name"] = "CommonPassword",
                        ["0:Options:PasswordListPath"] = gzipList,
                        ["1:Name"] = "MinimumLength",
                        ["1:Options:MinLength"] = "12",
                        ["2:Name"] = "UserAttributeSimilarity",
                        ["2:Options:MaxSimilarity"] = "0.1",
                        ["2:Options:UserAttributes"] = "last_name, username",
                    },
                    [
                        new("CommonPasswordValidator", new() { ["password_list_path"] = gzipList }),
                        new("MinimumLengthValidator", new() { ["min_length"] = 12 }),
                        new("UserAttributeSimilarityValidator", new() { ["user_attributes"] = LastNameAndUsername,
                            ["max_similarity"] = 0.1 }),
                    ],
                    [.. extra, .. PasswordCorpus.LengthRatioEdges(), .. corpus.Where((_, i) => i % 3 == 1)]),
            };
            var answers = await AskDjangoAsync(groups);
            for (var g = 0; g < groups.Length; g++)
            {
                using var postern = PosternValidation.With(groups[g].Settings);
                AssertSameAnswers(groups[g], answers[g].HelpTexts, answers[g].Results, postern.Validation);
            }
            Assert.Equal("This password is too short. It must contain at least 1 character.",
                answers[0].Results[listed.Length - 2].Single());
            Assert.Equal("Your password must contain at least 1 character.", answers[0].HelpTexts[1]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task PythonsTextOperationsMatchCodePointByCodePoint()
    {
        // For every code point Python 3 (Debian 12: Unicode 14) knows: its category, lower(), isspace(), isdigit(), \w,
        // and the Cased and Case_Ignorable properties behind lower()'s final sigma rule (read off lower() itself).
        const string script = """
            import re, sys, unicodedata
            word = re.compile(r"\w")
            out = []
            for cp in range(0x110000):
                c = chr(cp)
                category = unicodedata.category(c)
                if category == "Cn":
                    continue
                cased = c.islower() or c.isupper() or c.istitle()
                ignorable = ("A" + c + "\u03a3").lower()[-1] == "\u03c2" and ("A\u03a3" + c).lower()[1] == "\u03c2"
                flags = "".join("1" if f else "0" for f in (c.isspace(), c.isdigit(), word.match(c), cased, ignorable))
                out.append("%x %s %s %s" % (cp, category, ".".join("%x" % ord(x) for x in c.lower()), flags))
            sys.stdout.write("\n".join(out))
            """;
        var lines = (await DjangoPython.RunAsync(PeerKind.Modern, script)).Split('\n');
        var differences = new List<string>();
        var skipped = 0;
        foreach (var line in lines)
        {
            var fields = line.Split(' ');
            var codePoint = int.Parse(fields[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (CategoryCode(codePoint) != fields[1])
            {
                skipped++; // a character whose category changed between Python's Unicode and .NET's
                continue;
            }
            var lower = string.Join('.', PythonText.Lower([codePoint]).Select(c => c.ToString("x", CultureInfo.InvariantCulture)));
            bool[] ours =
            [
                PythonText.IsSpace(codePoint), PythonText.IsDigit(codePoint), PythonText.IsWordCharacter(codePoint),
                PythonText.IsCased(codePoint), PythonText.IsCaseIgnorable(codePoint),
            ];
            var flags = string.Concat(ours.Select(f => f ? '1' : '0'));
            if (lower != fields[2] || flags != fields[3])
                differences.Add($"U+{codePoint:X4}: Python {fields[2]} {fields[3]}, Postern {lower} {flags}");
        }
        Assert.True(lines.Length > 250_000, $"{lines.Length} code points");
        Assert.True(skipped < 100, $"{skipped} code points skipped");
        Assert.True(differences.Count == 0, string.Join('\n', differences.Take(30)));
    }

    [Fact]
    public void TheMinimumLengthIsAnOption()
    {
        using var postern = PosternValidation.With(new Dictionary<string, string?>
        {
            ["0:Name"] = "MinimumLength",
            ["0:Options:MinLength"] = "12",
        });
        Assert.Equal(["This password is too short. It must contain at least 12 characters."],
            postern.Validation.Validate("short-pass1", new PasswordUserAttributes("alice")));
        // Only the configured validator applies: a common, entirely numeric password of twelve passes.
        Assert.Empty(postern.Validation.Validate("123456789012", new PasswordUserAttributes("alice")));
        Assert.Equal(["Your password must contain at least 12 characters."], postern.Validation.HelpTexts);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    public void AnEmptyListTurnsValidationOff(string configured)
    {
        // An empty environment variable (or in-memory value), and [] in appsettings.json.
        var configuration = configured.Length == 0
            ? new ConfigurationBuilder().AddInMemoryCollection(
                new Dictionary<string, string?> { [PasswordValidationOptions.Section] = "" }).Build()
            : new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(
                """{"Postern": {"Accounts": {"PasswordValidators": """ + configured + "}}}"))).Build();
        var validation = Configured(configuration);
        Assert.Empty(validation.Validators);
        Assert.Empty(validation.Validate("1", new PasswordUserAttributes("1")));
        Assert.Empty(validation.HelpTexts);
    }

    [Fact]
    public void WithoutConfigurationTheValidatorsAreDjangosFourInDjangosOrder()
    {
        var validation = Configured(new ConfigurationBuilder().Build());
        Assert.Collection(validation.Validators,
            v => Assert.Equal(0.7, Assert.IsType<UserAttributeSimilarityValidator>(v).MaxSimilarity),
            v => Assert.Equal(8, Assert.IsType<MinimumLengthValidator>(v).MinLength),
            v => Assert.Null(Assert.IsType<CommonPasswordValidator>(v).PasswordListPath),
            v => Assert.IsType<NumericPasswordValidator>(v));
        Assert.Equal(
            [
                "This password is too short. It must contain at least 8 characters.", "This password is too common.",
                "This password is entirely numeric.",
            ],
            validation.Validate("1234", new PasswordUserAttributes("alice")));
    }

    [Theory]
    [InlineData("0:Name", "MinLength", "Postern:Accounts:PasswordValidators:0: unknown password validator 'MinLength'; "
        + "the validators are UserAttributeSimilarity, MinimumLength, CommonPassword, NumericPassword.")]
    [InlineData("0:Options:MinLenght", "9", "Postern:Accounts:PasswordValidators:0: MinimumLength takes no option 'MinLenght'; "
        + "its options are MinLength.")]
    [InlineData("0:Options:MinLength", "-1", "MinLength must be a whole number of 0 or more, not '-1'.")]
    [InlineData("0:Options:MinLength", "eight", "MinLength must be a whole number of 0 or more, not 'eight'.")]
    [InlineData("1:Name", "NumericPassword", "Postern:Accounts:PasswordValidators:1: NumericPassword takes no options, not 'Strict'.")]
    [InlineData("1:Options:MaxSimilarity", "0.05", "UserAttributeSimilarity: MaxSimilarity must be a number of at least 0.1, not '0.05'.")]
    [InlineData("1:Options:UserAttributes", "username,nickname", "UserAttributes has 'nickname'; the attributes are "
        + "username, first_name, last_name, email.")]
    [InlineData("1:Name", "", "Postern:Accounts:PasswordValidators:1 has no Name.")]
    [InlineData("0:Optoins:MinLength", "9", "Postern:Accounts:PasswordValidators:0 has 'Optoins': a validator has a Name and Options.")]
    [InlineData("0:Options:MinLength", null, "Postern:Accounts:PasswordValidators is 'MinimumLength': it must be a list")]
    [InlineData("2:Options:PasswordListPath", "/nonexistent/passwords.txt",
        "CommonPassword: PasswordListPath '/nonexistent/passwords.txt' is not a file.")]
    public async Task AMistakeInTheValidatorsStopsTheServerAtStartWithWhereAndWhat(string key, string? value, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            [$"{PasswordValidationOptions.Section}:0:Name"] = "MinimumLength",
            [$"{PasswordValidationOptions.Section}:1:Name"] = "UserAttributeSimilarity",
            [$"{PasswordValidationOptions.Section}:2:Name"] = "CommonPassword",
        };
        if (value is null)
        {
            settings.Clear();
            settings[PasswordValidationOptions.Section] = "MinimumLength";
        }
        else
        {
            settings[$"{PasswordValidationOptions.Section}:{key}"] = value;
            if (key == "1:Name" && value == "NumericPassword")
                settings[$"{PasswordValidationOptions.Section}:1:Options:Strict"] = "true";
        }
        var folder = Directory.CreateTempSubdirectory("postern-passwords-").FullName;
        try
        {
            await using var app = PosternApplication.CreateBuilder(
                new HostSettings("http://127.0.0.1:0", Path.Combine(folder, "db.sqlite3")) { Overrides = settings }).Build();
            var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
            Assert.Contains(message, refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void UserAttributesListedInJsonAreReadInOrder()
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("""
            {"Postern": {"Accounts": {"PasswordValidators": [
              {"Name": "UserAttributeSimilarity", "Options": {"UserAttributes": ["email", "username"], "MaxSimilarity": 0.9}}
            ]}}}
            """))).Build();
        var validation = Configured(configuration);
        var similarity = Assert.IsType<UserAttributeSimilarityValidator>(Assert.Single(validation.Validators));
        Assert.Equal(0.9, similarity.MaxSimilarity);
        // Both attributes are as like the password: the first listed is the one named.
        Assert.Equal(["The password is too similar to the email address."],
            validation.Validate("samesame", new PasswordUserAttributes("samesame", "samesame")));
    }

    [Fact]
    public async Task AccountServiceRefusesAWeakPasswordWithEveryMessageUnlessBypassed()
    {
        await using var server = await PosternTestServer.StartAsync();
        var refused = await Assert.ThrowsAsync<PasswordValidationException>(
            () => server.Accounts.CreateUserAsync("weak-alice", "alice", "alice@example.org"));
        Assert.Equal(
            [
                "The password is too similar to the username.",
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
            ],
            refused.Messages);
        Assert.Null(await server.Users.FindUserByUsernameAsync("weak-alice"));
        Assert.Equal(["The password is too similar to the email address."],
            (await Assert.ThrowsAsync<PasswordValidationException>(
                () => server.Accounts.CreateUserAsync("carol", "smith.example", "j.smith@example.org"))).Messages);

        var user = await server.Accounts.CreateUserAsync("weak-alice", "alice", bypassPasswordValidation: true);
        var change = await Assert.ThrowsAsync<PasswordValidationException>(() => server.Accounts.ChangePasswordAsync(user, "12345678"));
        Assert.Equal(["This password is too common.", "This password is entirely numeric."], change.Messages);
        await server.Accounts.ChangePasswordAsync(user, "12345678", bypassPasswordValidation: true);
        // The length limits stay, bypass or not.
        await Assert.ThrowsAsync<InvalidAccountInputException>(
            () => server.Accounts.ChangePasswordAsync(user, "", bypassPasswordValidation: true));
        await Assert.ThrowsAsync<InvalidAccountInputException>(
            () => server.Accounts.ChangePasswordAsync(user, new string('x', Protocol.DjangoPasswordHash.MaxPasswordLength + 1)));
        // A user without a password stays possible.
        Assert.NotNull(await server.Accounts.CreateUserAsync("no-password", null));
    }

    private static PasswordValidation Configured(IConfiguration configuration)
    {
        var setup = new PasswordValidationSetup(configuration);
        var options = new PasswordValidationOptions();
        setup.Configure(options);
        var validated = setup.Validate(null, options);
        Assert.True(validated.Succeeded, validated.FailureMessage);
        return PasswordValidation.From(options);
    }

    private static void AssertSameAnswers(ValidatorGroup group, IReadOnlyList<string> djangoHelpTexts,
        IReadOnlyList<IReadOnlyList<string>> djangoResults, PasswordValidation postern)
    {
        Assert.Equal(djangoHelpTexts, postern.HelpTexts);
        Assert.Equal(group.Cases.Count, djangoResults.Count);
        var differences = new List<string>();
        for (var i = 0; i < group.Cases.Count; i++)
        {
            var c = group.Cases[i];
            var ours = postern.Validate(c.Password, new PasswordUserAttributes(c.Username, c.Email, c.FirstName, c.LastName));
            if (!ours.SequenceEqual(djangoResults[i]))
                differences.Add($"#{i} {c}\n  Django: {string.Join(" | ", djangoResults[i])}\n  Postern: {string.Join(" | ", ours)}");
        }
        Assert.True(differences.Count == 0, $"{group.Name}: {differences.Count} of {group.Cases.Count} differ\n"
            + string.Join('\n', differences.Take(20)));
    }

    private sealed record DjangoValidator(string Name, Dictionary<string, object>? Options = null);

    private sealed record ValidatorGroup(string Name, IReadOnlyDictionary<string, string?> Settings, IReadOnlyList<DjangoValidator> Django,
        IReadOnlyList<PasswordCase> Cases);

    /// <summary>Each group's help texts and messages, from one run of Python over all of them.</summary>
    private static async Task<List<(IReadOnlyList<string> HelpTexts, IReadOnlyList<IReadOnlyList<string>> Results)>> AskDjangoAsync(
        IReadOnlyList<ValidatorGroup> groups)
    {
        const string script = """
            import json, sys
            import django
            from django.conf import settings
            settings.configure(INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"])
            django.setup()
            from django.contrib.auth import password_validation
            from django.contrib.auth.models import User
            from django.core.exceptions import ValidationError
            answers = []
            for group in json.load(sys.stdin):
                validators = password_validation.get_password_validators(group["validators"])
                results = []
                for case in group["cases"]:
                    user = User(username=case[1], email=case[2], first_name=case[3], last_name=case[4])
                    try:
                        password_validation.validate_password(case[0], user, validators)
                        results.append([])
                    except ValidationError as error:
                        results.append(error.messages)
                answers.append({"help_texts": password_validation.password_validators_help_texts(validators), "results": results})
            json.dump(answers, sys.stdout)
            """;
        var request = new StringBuilder("[");
        foreach (var group in groups)
        {
            var validators = group.Django.Select(v => new Dictionary<string, object>
            {
                ["NAME"] = DjangoValidators + v.Name,
                ["OPTIONS"] = v.Options ?? [],
            });
            request.Append(CultureInfo.InvariantCulture, $$"""{"validators": {{JsonSerializer.Serialize(validators)}}, "cases": [""");
            request.AppendJoin(", ", group.Cases.Select(c => "["
                + string.Join(", ", new[] { c.Password, c.Username, c.Email, c.FirstName, c.LastName }.Select(PasswordCorpus.JsonString))
                + "]"));
            request.Append("]},");
        }
        request.Length--;
        request.Append(']');
        using var answer = JsonDocument.Parse(await DjangoPython.RunAsync(PeerKind.Modern, script, request.ToString()));
        return [.. answer.RootElement.EnumerateArray().Select(group => (
            (IReadOnlyList<string>)[.. group.GetProperty("help_texts").EnumerateArray().Select(t => t.GetString()!)],
            (IReadOnlyList<IReadOnlyList<string>>)[.. group.GetProperty("results").EnumerateArray()
                .Select(r => (IReadOnlyList<string>)[.. r.EnumerateArray().Select(m => m.GetString()!)])]))];
    }

    /// <summary>The validation service as the server composes it, from the given <c>PasswordValidators</c> settings.</summary>
    private sealed class PosternValidation : IDisposable
    {
        private readonly WebApplication _app;

        private PosternValidation(WebApplication app) => _app = app;

        public PasswordValidation Validation => _app.Services.GetRequiredService<PasswordValidation>();

        public static PosternValidation With(IReadOnlyDictionary<string, string?> settings) =>
            new(PosternApplication.CreateBuilder(new HostSettings
            {
                Overrides = settings.ToDictionary(s => $"{PasswordValidationOptions.Section}:{s.Key}", s => s.Value),
            }).Build());

        public void Dispose() => ((IDisposable)_app).Dispose();
    }

    private static string CategoryCode(int codePoint) =>
        (codePoint is >= 0xD800 and <= 0xDFFF ? UnicodeCategory.Surrogate : Rune.GetUnicodeCategory(new Rune(codePoint))) switch
        {
            UnicodeCategory.UppercaseLetter => "Lu",
            UnicodeCategory.LowercaseLetter => "Ll",
            UnicodeCategory.TitlecaseLetter => "Lt",
            UnicodeCategory.ModifierLetter => "Lm",
            UnicodeCategory.OtherLetter => "Lo",
            UnicodeCategory.NonSpacingMark => "Mn",
            UnicodeCategory.SpacingCombiningMark => "Mc",
            UnicodeCategory.EnclosingMark => "Me",
            UnicodeCategory.DecimalDigitNumber => "Nd",
            UnicodeCategory.LetterNumber => "Nl",
            UnicodeCategory.OtherNumber => "No",
            UnicodeCategory.SpaceSeparator => "Zs",
            UnicodeCategory.LineSeparator => "Zl",
            UnicodeCategory.ParagraphSeparator => "Zp",
            UnicodeCategory.Control => "Cc",
            UnicodeCategory.Format => "Cf",
            UnicodeCategory.Surrogate => "Cs",
            UnicodeCategory.PrivateUse => "Co",
            UnicodeCategory.ConnectorPunctuation => "Pc",
            UnicodeCategory.DashPunctuation => "Pd",
            UnicodeCategory.OpenPunctuation => "Ps",
            UnicodeCategory.ClosePunctuation => "Pe",
            UnicodeCategory.InitialQuotePunctuation => "Pi",
            UnicodeCategory.FinalQuotePunctuation => "Pf",
            UnicodeCategory.OtherPunctuation => "Po",
            UnicodeCategory.MathSymbol => "Sm",
            UnicodeCategory.CurrencySymbol => "Sc",
            UnicodeCategory.ModifierSymbol => "Sk",
            UnicodeCategory.OtherSymbol => "So",
            _ => "Cn",
        };
}
