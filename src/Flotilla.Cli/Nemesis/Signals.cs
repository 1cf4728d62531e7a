using System.Runtime.InteropServices;

namespace Flotilla.Cli.Nemesis;

/// <summary>POSIX signals .NET has no API for: SIGSTOP/SIGCONT pause a process without it noticing.</summary>
public static class Signals
{
    private const int SigKill = 9;
    private const int SigCont = 18;
    private const int SigStop = 19;

    public static bool Stop(int pid) => pid > 0 && kill(pid, SigStop) == 0;

    public static bool Continue(int pid) => pid > 0 && kill(pid, SigCont) == 0;

    public static bool Kill(int pid) => pid > 0 && kill(pid, SigKill) == 0;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
