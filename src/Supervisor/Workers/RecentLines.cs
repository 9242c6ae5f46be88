namespace PyPE.Supervisor.Workers;

/// <summary>The last few lines a starting worker wrote to stderr, kept to explain a start that failed.</summary>
internal sealed class RecentLines(int capacity)
{
    private readonly Queue<string> _lines = new(capacity);
    private readonly Lock _lock = new();

    public void Add(string line)
    {
        lock (_lock)
        {
            if (_lines.Count == capacity)
            {
                _lines.Dequeue();
            }

            _lines.Enqueue(line);
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return string.Join('\n', _lines);
        }
    }
}
