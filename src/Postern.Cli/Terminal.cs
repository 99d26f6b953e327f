using System.Text;

namespace Postern.Cli;

/// <summary>
/// The process's standard streams and what they are connected to: colours and progress only go to a
/// terminal, and a password is only prompted for on one.
/// </summary>
public sealed class Terminal(
    TextReader input, TextWriter output, TextWriter error, bool inputIsTerminal, bool outputIsTerminal, bool errorIsTerminal,
    Func<string, string?> environment)
{
    public TextReader In { get; } = input;
    public TextWriter Out { get; } = output;
    public TextWriter Error { get; } = error;
    public bool InputIsTerminal { get; } = inputIsTerminal;
    public bool ErrorIsTerminal { get; } = errorIsTerminal;

    /// <summary>The process's environment variables (XDG_CONFIG_HOME, NO_COLOR, ...).</summary>
    public Func<string, string?> Environment { get; } = environment;

    /// <summary>
    /// Colours on stdout: never with <c>NO_COLOR</c> (no-color.org), always with <c>FORCE_COLOR</c>,
    /// otherwise only when stdout is a terminal that can show them, so that <c>| jq</c> gets plain JSON.
    /// </summary>
    public bool Colors { get; } =
        string.IsNullOrEmpty(environment("NO_COLOR"))
        && (environment("FORCE_COLOR") is { Length: > 0 } force && force != "0"
            || outputIsTerminal && environment("TERM") != "dumb");

    public static Terminal FromConsole()
    {
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        var output = new StreamWriter(Console.OpenStandardOutput(), utf8) { AutoFlush = true };
        var error = new StreamWriter(Console.OpenStandardError(), utf8) { AutoFlush = true };
        return new Terminal(Console.In, output, error, !Console.IsInputRedirected, !Console.IsOutputRedirected, !Console.IsErrorRedirected,
            System.Environment.GetEnvironmentVariable);
    }

    /// <summary>Asks for a secret on the terminal without echoing it.</summary>
    public string ReadSecret(string prompt)
    {
        Error.Write(prompt);
        var secret = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
                break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (secret.Length > 0)
                    secret.Length--;
            }
            else if (key.KeyChar != '\0')
            {
                secret.Append(key.KeyChar);
            }
        }
        Error.WriteLine();
        return secret.ToString();
    }
}
