namespace Postern.Cli;

/// <summary>
/// What <c>postern</c> exits with, so that scripts can tell a bad command line from a refusal, a failing server or no
/// server at all.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Usage = 1;
    public const int ClientError = 2;
    public const int ServerError = 3;
    public const int TransportFailure = 4;

    /// <summary>Interrupted with Ctrl+C, as shells report SIGINT.</summary>
    public const int Interrupted = 130;
}

/// <summary>A command line that cannot be carried out as given (exit code 1). Its message is shown as it is.</summary>
public sealed class UsageException(string message) : Exception(message);
