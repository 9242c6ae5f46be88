using System.Runtime.Versioning;

// Process groups, signals, Unix sockets and /proc: the supervisor is Linux-only by design.
[assembly: SupportedOSPlatform("linux")]
