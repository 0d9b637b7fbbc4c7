// The device cgroup's meaning, written as the v1 kernel keeps it (security/device_cgroup.c):
// a default behaviour and a list of exceptions, changed by each rule in order; an access is
// checked against them. A reference for the core's BPF device programs (tests only).

export interface RefRule {
  allow: boolean;
  /** 'a', 'b' or 'c'. */
  type: string;
  /** -1: `*`. */
  major: number;
  minor: number;
  /** of r, w, m. */
  access: string;
}

interface Exception {
  type: number;
  major: number;
  minor: number;
  access: number;
}

const TYPE: Record<string, number> = { b: 1, c: 2 };

function bits(access: string): number {
  let b = 0;
  for (const c of access) b |= c === 'm' ? 1 : c === 'r' ? 2 : c === 'w' ? 4 : 0;
  return b;
}

/** Is `access` (bits) to the device allowed after `rules`? */
export function referenceAllows(rules: readonly RefRule[], req: { type: number; major: number; minor: number; access: number }): boolean {
  let behaviourAllow = true;
  let exceptions: Exception[] = [];
  for (const r of rules) {
    if (r.type === 'a') {
      behaviourAllow = r.allow;
      exceptions = [];
      continue;
    }
    const ex: Exception = { type: TYPE[r.type], major: r.major, minor: r.minor, access: bits(r.access) };
    const same = (e: Exception) => e.type === ex.type && e.major === ex.major && e.minor === ex.minor;
    if (r.allow === behaviourAllow) {
      // dev_exception_rm
      for (const e of exceptions) if (same(e)) e.access &= ~ex.access;
      exceptions = exceptions.filter((e) => e.access !== 0);
    } else {
      // dev_exception_add
      const found = exceptions.find(same);
      if (found) found.access |= ex.access;
      else exceptions.push(ex);
    }
  }
  const matches = (e: Exception) => e.type === req.type && (e.major === -1 || e.major === req.major) && (e.minor === -1 || e.minor === req.minor);
  if (behaviourAllow) return !exceptions.some((e) => matches(e) && (e.access & req.access) !== 0);
  return exceptions.some((e) => matches(e) && (req.access & ~e.access) === 0);
}
