// Test-only crash points: `HUSK_TEST_CRASH=NAME` makes husk SIGKILL itself at the point named
// NAME, so a test can kill the orchestrator at an exact instant of a start (no sleep, no race)
// and check that the next command shows the truth (docs/architecture.md "Crashes").
// Points: `spawned-unrecorded` (the launcher exists, the record does not name it yet),
// `started-unrecorded` (the container runs under its monitor, the record lacks its pid).
export function crashPoint(name: string): void {
  if (process.env.HUSK_TEST_CRASH === name) process.kill(process.pid, 'SIGKILL');
}
