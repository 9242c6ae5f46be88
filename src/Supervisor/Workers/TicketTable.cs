using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PyPE.Supervisor.Workers;

/// <summary>
/// The tickets of the requests handed ahead to one worker (<c>pool.prefetch</c>): a small file beside its socket,
/// <c>&lt;socket&gt;.tickets</c>, mapped into both processes, one 8-byte slot per ticket holding its number and
/// state. The worker marks a ticket started before it runs the request; the host marks it taken back to give the
/// request to another worker. Each side reads and writes a slot only while holding a lock on its 8 bytes (POSIX
/// record locks, which the kernel arbitrates between the two processes), so exactly one of them wins and a request
/// is never run twice. Locks and plain memory: no file is created or removed per request, which on this VM cost
/// more than the prefetch saved (BENCHMARKS.md, "Prefetch").
/// </summary>
public sealed unsafe partial class TicketTable : IDisposable
{
    /// <summary>Tickets one worker can have out at once; <c>pool.prefetch</c> is at most 16.</summary>
    public const int Slots = 64;

    private const int SlotBytes = 8;
    private const long Issued = 1;
    private const long Started = 2;
    private const long TakenBack = 3;

    // fcntl: open-file-description locks (Linux 3.15+); they exclude the worker's classic POSIX locks (lockf).
    private const int F_OFD_SETLK = 37;

    /// <summary>How long the host tries for a slot's lock before it leaves the ticket to the worker (a stopped worker holds it).</summary>
    private static readonly TimeSpan LockPatience = TimeSpan.FromMilliseconds(200);
    private const short F_WRLCK = 1;
    private const int EINTR = 4;
    private const int EAGAIN = 11;
    private const int EACCES = 13;
    private const short F_UNLCK = 2;

    /// <summary>Held while the mapping is used, and to unmap it.</summary>
    private readonly Lock _gate = new();

    /// <summary>Guards the free slots and retirement: taken under the dispatcher's lock, so never held across a system call.</summary>
    private readonly Lock _slotsLock = new();
    private readonly SafeFileHandle _file;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _slots;
    private ulong _free = ulong.MaxValue;
    private bool _retired;
    private bool _closed;

    private TicketTable(string path, SafeFileHandle file, MemoryMappedFile map, MemoryMappedViewAccessor view)
    {
        Path = path;
        _file = file;
        _map = map;
        _view = view;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _slots = pointer + view.PointerOffset;
    }

    public string Path { get; }

    /// <summary>Creates the table (zeroed) at <paramref name="path"/>; null when the file cannot be made (then no request is handed ahead).</summary>
    public static TicketTable? TryCreate(string path)
    {
        SafeFileHandle? file = null;
        try
        {
            file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.ReadWrite, FileOptions.None);
            RandomAccess.SetLength(file, Slots * SlotBytes);
            var map = MemoryMappedFile.CreateFromFile(file, null, Slots * SlotBytes, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
            return new TicketTable(path, file, map, map.CreateViewAccessor(0, Slots * SlotBytes));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            file?.Dispose();
            return null;
        }
    }

    /// <summary>A free slot, or -1 when every slot is out (called under the dispatcher's lock).</summary>
    public int TryAllocate()
    {
        lock (_slotsLock)
        {
            if (_free == 0 || _retired)
            {
                return -1;
            }

            var slot = BitOperations.TrailingZeroCount(_free);
            _free &= ~(1UL << slot);
            return slot;
        }
    }

    /// <summary>Gives a slot back once its ticket is settled (called under the dispatcher's lock).</summary>
    public void Free(int slot)
    {
        lock (_slotsLock)
        {
            _free |= 1UL << slot;
            if (!_retired || _free != ulong.MaxValue)
            {
                return;
            }
        }

        CloseSoon();
    }

    /// <summary>Writes ticket <paramref name="number"/> into <paramref name="slot"/>, issued: before the request is sent.</summary>
    public bool TryIssue(int slot, long number) => Exchange(slot, expected: null, Value(number, Issued));

    /// <summary>Marks the ticket taken back if the worker has not marked it started. True when the host won.</summary>
    public bool TryTakeBack(int slot, long number) => Exchange(slot, Value(number, Issued), Value(number, TakenBack));

    /// <summary>The state the worker sets (for tests that play the worker).</summary>
    public bool TryStart(int slot, long number) => Exchange(slot, Value(number, Issued), Value(number, Started));

    private static long Value(long number, long state) => (number << 8) | state;

    /// <summary>Under the slot's record lock: if it holds <paramref name="expected"/> (or anything, when null), writes <paramref name="value"/>.</summary>
    private bool Exchange(int slot, long? expected, long value)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            var fd = (int)_file.DangerousGetHandle();
            var range = new Flock { Type = F_WRLCK, Start = slot * SlotBytes, Length = SlotBytes };
            if (!TryLock(fd, ref range))
            {
                return false;
            }

            try
            {
                var span = new Span<byte>(_slots + (slot * SlotBytes), SlotBytes);
                if (expected is { } e && BinaryPrimitives.ReadInt64LittleEndian(span) != e)
                {
                    return false;
                }

                BinaryPrimitives.WriteInt64LittleEndian(span, value);
                return true;
            }
            finally
            {
                range.Type = F_UNLCK;
                _ = Fcntl(fd, F_OFD_SETLK, ref range);
            }
        }
    }

    /// <summary>
    /// Removes the file once the worker has exited. The mapping stays until the last ticket is settled: a request
    /// whose hop failed as the worker died still asks the table whether the worker had started it.
    /// </summary>
    public void Dispose()
    {
        bool idle;
        lock (_slotsLock)
        {
            if (_retired)
            {
                return;
            }

            _retired = true;
            idle = _free == ulong.MaxValue;
        }

        if (idle)
        {
            Close();
        }

        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Takes the slot's lock without waiting in the kernel: the worker holds it only for a read and a write, but a
    /// worker stopped (SIGSTOP) in between would hold it for good, and this runs on a request's thread.
    /// </summary>
    private static bool TryLock(int fd, ref Flock range)
    {
        var deadline = Environment.TickCount64 + (long)LockPatience.TotalMilliseconds;
        for (var spin = default(SpinWait); ; spin.SpinOnce(sleep1Threshold: 20))
        {
            if (Fcntl(fd, F_OFD_SETLK, ref range) == 0)
            {
                return true;
            }

            var error = Marshal.GetLastPInvokeError();
            if ((error != EAGAIN && error != EACCES && error != EINTR) || Environment.TickCount64 > deadline)
            {
                return false;
            }
        }
    }

    /// <summary>Unmaps on the thread pool: the caller may hold the dispatcher's lock, and an exchange may hold <see cref="_gate"/>.</summary>
    private void CloseSoon() => ThreadPool.UnsafeQueueUserWorkItem(static table => table.Close(), this, preferLocal: false);

    private void Close()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map.Dispose();
            _file.Dispose();
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, ref Flock range);
}
