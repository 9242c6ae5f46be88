using System.Globalization;

namespace PyPE.Supervisor.Workers;

/// <summary>
/// A datagram from a worker on the host's notify socket, in the style of systemd's <c>sd_notify</c>:
/// <c>KEY=VALUE</c> lines; <c>ERROR</c> comes last and may span lines.
/// </summary>
public sealed record NotifyMessage(string WorkerId, int Pid, bool Ready, bool Failed, string? Error)
{
    public static NotifyMessage? Parse(ReadOnlySpan<char> text)
    {
        string? worker = null;
        string? error = null;
        int pid = 0;
        bool ready = false, failed = false;
        while (!text.IsEmpty)
        {
            var newline = text.IndexOf('\n');
            var line = newline < 0 ? text : text[..newline];
            if (line.StartsWith("ERROR="))
            {
                error = text[6..].ToString();
                break;
            }

            var eq = line.IndexOf('=');
            if (eq > 0)
            {
                var key = line[..eq];
                var value = line[(eq + 1)..];
                if (key.SequenceEqual("WORKER"))
                {
                    worker = value.ToString();
                }
                else if (key.SequenceEqual("PID"))
                {
                    _ = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out pid);
                }
                else if (key.SequenceEqual("READY"))
                {
                    ready = value.SequenceEqual("1");
                }
                else if (key.SequenceEqual("FAILED"))
                {
                    failed = value.SequenceEqual("1");
                }
            }

            text = newline < 0 ? [] : text[(newline + 1)..];
        }

        return worker is null ? null : new NotifyMessage(worker, pid, ready, failed, error);
    }
}
