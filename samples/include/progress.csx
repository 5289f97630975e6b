// Shared by the samples: a progress bar on standard error (standard output stays the data's).
#nullable enable
using System.Diagnostics;

/// <summary>
/// Draws "[#####     ]  50%  12,345 records  4,321/s" on stderr, redrawn in place on a terminal and as a
/// line every 10% when stderr is a file or pipe. With total = 0 (unknown), shows counts and rate only.
/// </summary>
sealed class ProgressBar
{
    private readonly string _label;
    private readonly long _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private TimeSpan _lastDraw = TimeSpan.MinValue;
    private int _lastTenth = -1;

    public ProgressBar(string label, long total)
    {
        _label = label;
        _total = total;
    }

    /// <summary>Reports <paramref name="done"/> units of the total and <paramref name="items"/> records so far.</summary>
    public void Report(long done, long items)
    {
        var fraction = _total > 0 ? Math.Clamp((double)done / _total, 0, 1) : 0;
        if (_interactive)
        {
            if (_clock.Elapsed - _lastDraw < TimeSpan.FromMilliseconds(100))
                return;
            _lastDraw = _clock.Elapsed;
            Console.Error.Write("\r" + Line(fraction, items));
            return;
        }
        var tenth = (int)(fraction * 10);
        if (_total > 0 && tenth > _lastTenth)
        {
            _lastTenth = tenth;
            Console.Error.WriteLine(Line(fraction, items));
        }
    }

    public void Done(long items)
    {
        if (_interactive)
            Console.Error.Write("\r" + Line(1, items) + "\n");
        else if (_lastTenth < 10)
            Console.Error.WriteLine(Line(1, items));
    }

    private string Line(double fraction, long items)
    {
        var rate = items / Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
        if (_total <= 0)
            return $"{_label}: {items,12:N0} records  {rate,10:N0}/s";
        var filled = (int)(fraction * 30);
        return $"{_label}: [{new string('#', filled)}{new string(' ', 30 - filled)}] {fraction,4:P0} {items,12:N0} records  {rate,10:N0}/s";
    }
}
