namespace Postern.Server.Accounts;

/// <summary>The part of Python's <c>difflib.SequenceMatcher</c> that Django 5.2's similarity validator calls.</summary>
internal static class SequenceMatcher
{
    /// <summary>
    /// <c>SequenceMatcher(a=a, b=b).quick_ratio()</c>: twice the size of the two sequences' intersection as multisets,
    /// over their total length (1 for two empty sequences). It reads every element of <paramref name="b"/>, so
    /// difflib's junk heuristics (autojunk, which only <c>ratio()</c>'s matching blocks consult) play no part.
    /// </summary>
    public static double QuickRatio(int[] a, int[] b)
    {
        var fullBCount = new Dictionary<int, int>();
        foreach (var element in b)
            fullBCount[element] = fullBCount.GetValueOrDefault(element) + 1;
        var available = new Dictionary<int, int>();
        var matches = 0;
        foreach (var element in a)
        {
            var inB = available.TryGetValue(element, out var left) ? left : fullBCount.GetValueOrDefault(element);
            available[element] = inB - 1;
            if (inB > 0)
                matches++;
        }
        var length = a.Length + b.Length;
        return length == 0 ? 1.0 : 2.0 * matches / length;
    }
}
