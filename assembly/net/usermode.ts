// User-mode networking (docs/networks.md "Rootless: pasta"): a container of a user who may
// make no bridge, veth or firewall rule gets its network from `pasta` (Debian's passt), which
// joins the container's user and network namespaces, gives it an interface with the host's
// addresses and routes, and forwards the published ports from the host's sockets. The core
// decides its arguments; the launcher runs it (NET_HELPER, a parent op, after the maps) and
// the container goes on only once pasta set the network up; pasta then stays as a daemon of
// its own, which the launcher stops when it ends.

import { Failure, invalid, malformed } from "../abi";
import { Fields, PATH_MAX, STR_MAX } from "../codec";
import { PlanWriter } from "../plan/encode";
import { parseIp } from "./ip";

/** Request: the program (pasta's absolute path). */
export const REQ_NET_USERMODE: u32 = 0x0363;
/** Request: one published port: host address ("" for all), host port, container port, tcp|udp. */
export const REQ_NET_USERMODE_PORT: u32 = 0x0364;

const T_NET_HELPER: u16 = 0x004b;
const PORTS_MAX: i32 = 64;

export class UsermodePort {
  constructor(public hostIp: string, public hostPort: u64, public port: u64, public proto: string) {}
}

export class UsermodeRequest {
  present: bool = false;
  program: string = "";
  ports: UsermodePort[] = [];
}

export function isUsermodeItem(type: u32): bool {
  return type == REQ_NET_USERMODE || type == REQ_NET_USERMODE_PORT;
}

export function decodeUsermodeFrame(type: u32, ptr: usize, len: i32, index: i32, req: UsermodeRequest): Failure | null {
  const f = Fields.ofFrame(ptr, len, index, "NET_USERMODE");
  if (type == REQ_NET_USERMODE) {
    if (req.present) return malformed(f.context + ": a second NET_USERMODE");
    req.present = true;
    req.program = f.str("program", PATH_MAX);
  } else {
    const hostIp = f.str("host_ip", STR_MAX);
    const hostPort = f.u64("host_port");
    const port = f.u64("port");
    const proto = f.str("proto", STR_MAX);
    if (req.ports.length == PORTS_MAX) return malformed(f.context + ": more than 64 ports");
    req.ports.push(new UsermodePort(hostIp, hostPort, port, proto));
  }
  if (!f.finish()) return f.failure;
  return null;
}

/** The refusals: a program that is not absolute, ports without the network, bad values. */
export function checkUsermode(req: UsermodeRequest, netNew: bool): Failure | null {
  if (!req.present) return req.ports.length > 0 ? malformed("request: NET_USERMODE_PORT without NET_USERMODE") : null;
  if (req.program.length == 0 || req.program.charCodeAt(0) != 0x2f) return invalid("network: pasta's path " + req.program + " is not absolute");
  if (!netNew) return invalid("network: pasta needs a network namespace of the container's own (not --net host or a joined one)");
  for (let i = 0; i < req.ports.length; i++) {
    const p = req.ports[i];
    const what = "publish " + p.hostPort.toString() + ":" + p.port.toString() + "/" + p.proto;
    if (p.hostPort == 0 || p.hostPort > 65535 || p.port == 0 || p.port > 65535) return invalid(what + ": ports are 1 to 65535");
    if (p.proto != "tcp" && p.proto != "udp") return invalid(what + ": the protocol is tcp or udp");
    if (p.hostIp.length > 0 && parseIp(p.hostIp) < 0) return invalid(what + ": host address " + p.hostIp + " is not an IPv4 address");
  }
  return null;
}

/**
 * pasta's arguments before the pid: quiet, the namespace configured like the host, only the
 * ports asked for forwarded (its default, `auto`, would publish whatever the container
 * binds), nothing from the namespace to the host's loopback.
 */
export function pastaArgs(req: UsermodeRequest): string[] {
  // --foreground: pasta stays the launcher's own child, killed by the kernel with it
  // (PR_SET_PDEATHSIG: a SIGKILLed monitor leaves no pasta behind). -P: its pid on its stdout
  // (the launcher's pipe) once the network is set up, which is when the container may go on.
  const args: string[] = ["--foreground", "--quiet", "--config-net", "-P", "/proc/self/fd/1"];
  let tcp = 0;
  let udp = 0;
  for (let i = 0; i < req.ports.length; i++) {
    const p = req.ports[i];
    const spec = (p.hostIp.length > 0 ? p.hostIp + "/" : "") + p.hostPort.toString() + ":" + p.port.toString();
    args.push(p.proto == "udp" ? "-u" : "-t");
    args.push(spec);
    if (p.proto == "udp") udp++;
    else tcp++;
  }
  if (tcp == 0) {
    args.push("-t");
    args.push("none");
  }
  if (udp == 0) {
    args.push("-u");
    args.push("none");
  }
  args.push("-T");
  args.push("none");
  args.push("-U");
  args.push("none");
  return args;
}

/** NET_HELPER after the maps: the container waits until pasta set its network up. */
export function usermodeOps(plan: PlanWriter, req: UsermodeRequest): void {
  if (!req.present) return;
  plan.netHelper(T_NET_HELPER, req.program, pastaArgs(req));
}
