// The process: capabilities, user, working directory, no_new_privs, fds, and EXEC with its
// environment and search path.

import { PlanWriter } from "./encode";
import { chunks, NO_LISTENER, seccompFilter } from "../seccomp/entry";
import { FLAG_NEW_LISTENER } from "../seccomp/profile";
import { containerCapabilities } from "./security";
import { limitOps } from "./run-options";
import { OPTION_WAIT_START, PlanRequest } from "./request";
import {
  CAP_AUDIT_WRITE, CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_MKNOD,
  CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SETFCAP, CAP_SETGID, CAP_SETPCAP, CAP_SETUID,
  CAP_SYS_CHROOT,
} from "./linux";

/**
 * The exit statuses the launcher ends with when the container cannot be run (docker's, as
 * the CLI documents): an op or the launcher failed; EXEC found no file; EXEC found one but
 * could not run it. The plan carries them (EXEC) so the launcher holds no policy.
 */
export const STATUS_FAILED: u8 = 125;
export const STATUS_NOT_FOUND: u8 = 127;
export const STATUS_NOT_EXECUTABLE: u8 = 126;

export const DEFAULT_PATH: string = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPS: u64 =
  (<u64>1 << CAP_CHOWN) | (<u64>1 << CAP_DAC_OVERRIDE) | (<u64>1 << CAP_FSETID) |
  (<u64>1 << CAP_FOWNER) | (<u64>1 << CAP_MKNOD) | (<u64>1 << CAP_NET_RAW) |
  (<u64>1 << CAP_SETGID) | (<u64>1 << CAP_SETUID) | (<u64>1 << CAP_SETFCAP) |
  (<u64>1 << CAP_SETPCAP) | (<u64>1 << CAP_NET_BIND_SERVICE) | (<u64>1 << CAP_SYS_CHROOT) |
  (<u64>1 << CAP_KILL) | (<u64>1 << CAP_AUDIT_WRITE);

function envKey(entry: string): string {
  const eq = entry.indexOf("=");
  return eq < 0 ? entry : entry.substring(0, eq);
}

/**
 * PATH, HOSTNAME (when known) and HOME first, then the user's entries: a later entry with the
 * same name replaces the value but keeps the place of the first.
 */
export function buildEnv(req: PlanRequest): string[] {
  const defaults = new Array<string>();
  defaults.push("PATH=" + DEFAULT_PATH);
  if (req.hasHostname) defaults.push("HOSTNAME=" + req.hostname);
  defaults.push(req.uid == 0 ? "HOME=/root" : "HOME=/");
  const out = new Array<string>();
  const index = new Map<string, i32>();
  for (let pass = 0; pass < 2; pass++) {
    const list = pass == 0 ? defaults : req.env;
    for (let i = 0; i < list.length; i++) {
      const entry = list[i];
      const key = envKey(entry);
      if (index.has(key)) {
        out[index.get(key)] = entry;
      } else {
        index.set(key, out.length);
        out.push(entry);
      }
    }
  }
  return out;
}

/** The directories of the final PATH, empty entries skipped. */
export function searchPath(env: string[]): string[] {
  const out = new Array<string>();
  for (let i = 0; i < env.length; i++) {
    const entry = env[i];
    if (!entry.startsWith("PATH=")) continue;
    let from = 5;
    for (let j = 5; j <= entry.length; j++) {
      if (j == entry.length || entry.charCodeAt(j) == 0x3a) {
        if (j > from) out.push(entry.substring(from, j));
        from = j + 1;
      }
    }
    break;
  }
  return out;
}

/**
 * The process: CAPS, USER, CHDIR, NO_NEW_PRIVS, CLOSE_FDS, then the seccomp filter as the last
 * op before WAIT_START and EXEC (so the launcher's own steps before it are not filtered, and
 * no_new_privs lets an unprivileged process load it), EXEC. A profile that cannot be compiled
 * fails the plan (status 2, the reason names the field).
 */
export function processOps(plan: PlanWriter, req: PlanRequest): void {
  const capabilities = containerCapabilities(req.security);
  if (capabilities.failure !== null) {
    plan.w.fail(capabilities.failure!.reason);
    return;
  }
  const caps = capabilities.caps;
  // --privileged: every capability husk holds, no no_new_privs and no filter (docker's).
  const privileged = req.security.privileged;
  limitOps(plan, req.runOptions);
  plan.caps(caps, caps, caps, 0);
  plan.user(req.uid, req.gid, req.runOptions.groups);
  plan.chdir(req.workdir);
  if (!privileged) plan.noNewPrivs();
  plan.closeFds();
  const filter = seccompFilter(req.seccomp, caps);
  if (filter.failure !== null) {
    plan.w.fail(filter.failure!.reason);
    return;
  }
  if ((filter.flags & FLAG_NEW_LISTENER) != 0) {
    plan.w.fail(NO_LISTENER);
    return;
  }
  if (!filter.none && !privileged) plan.seccomp(filter.flags, chunks(filter.program));
  // husk's init forks off the command right before it runs (WAIT_START is the command's).
  if (req.lifecycle.init) plan.init();
  if ((req.options & OPTION_WAIT_START) != 0) plan.waitStart();
  const env = buildEnv(req);
  plan.exec(req.argv[0], req.argv, env, searchPath(env), STATUS_FAILED, STATUS_NOT_FOUND, STATUS_NOT_EXECUTABLE);
}
