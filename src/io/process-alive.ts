// Whether a process recorded by its pid (in a lock or a temporary file's name) is still running.

/** Whether process `pid` is running on this machine. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
