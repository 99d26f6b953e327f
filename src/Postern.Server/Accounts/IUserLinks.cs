namespace Postern.Server.Accounts;

/// <summary>
/// Where the API shows a user: <c>/auth/user</c> links to it. The account endpoints know no URL shapes; the API, which
/// owns the route table, answers.
/// </summary>
public interface IUserLinks
{
    string UserUrl(HttpRequest request, long userId);
}
