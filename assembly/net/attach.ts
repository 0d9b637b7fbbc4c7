// A container on a network (buildPlan items 0x0344–0x0348; docs/core-abi.md "Networks"):
// the core picks its address (the lowest free one of the subnet, or --ip), its MAC, the host
// end's name, writes /etc/hosts, /etc/resolv.conf and /etc/hostname for it, and the ops:
// NET_VETH (the monitor: the pair, its peer made straight in the container's namespace),
// the binds of the three files, then in the container NET_LINK_UP, NET_ADDR, NET_ROUTE.

import { Failure, invalid, malformed } from "../abi";
import { Fields, PATH_MAX, STR_MAX, Writer } from "../codec";
import { PlanWriter } from "../plan/encode";
import { Cidr, formatIp, macOf, parseCidr, parseIp } from "./ip";
import { DEFAULT_NAME, NET_INTERNAL } from "./network";
import { checkDnsName, dnsRecordLine, resolvConf, upstreamsOf } from "./dns";
import { FAMILY_INET, TABLE_NAME, portWords, portWords6 } from "./nft";
import { addLow, Cidr6, formatIp6, Ip6, parseCidr6, parseIp6 } from "./ip6";

export const REQ_NET_ATTACH: u32 = 0x0344;
export const REQ_NET_USED: u32 = 0x0345;
export const REQ_NET_IP: u32 = 0x0346;
export const REQ_NET_FILES: u32 = 0x0347;
export const REQ_NET_PORT: u32 = 0x0348;
export const REQ_NET_NAMES: u32 = 0x0349;
export const REQ_NET_OPTIONS: u32 = 0x034c;
export const REQ_NET_PUBLISH_ALL: u32 = 0x034d;
export const ANS_NET_PUBLISHED: u16 = 0x0357;
/** A dual-stack network (docs/networks.md "IPv6"): its subnet, gateway and --ip6; the IPv6 addresses others hold; what the container got. */
export const REQ_NET_ATTACH6: u32 = 0x035c;
export const REQ_NET_USED6: u32 = 0x035d;
export const ANS_NET_CHOSEN6: u16 = 0x035e;
/** NET_ADDR flags: no duplicate address detection (an IPv6 address is usable at once). */
const ADDR_NODAD: u64 = 1;
/** How far past the subnet's first address the lowest free IPv6 address is looked for. */
const SCAN6_MAX: u64 = 1 << 20;
/** -P's host ports: the kernel's default ephemeral range, as docker's. */
const PUBLISH_ALL_FIRST: u64 = 32768;
const PUBLISH_ALL_LAST: u64 = 60999;
export const ANS_NET_CHOSEN: u16 = 0x0352;
export const ANS_NET_FILE: u16 = 0x0353;
export const ANS_NET_PORTS: u16 = 0x0354;
export const ANS_NET_DNS: u16 = 0x0355;

const T_NET_VETH: u16 = 0x0093;
const T_NET_LINK_UP: u16 = 0x0094;
const T_NET_ADDR: u16 = 0x0095;
const T_NET_ROUTE: u16 = 0x0096;
const T_NFT_ELEMENTS: u16 = 0x00d8;
const T_NFT_DELETE: u16 = 0x00d9;
const NFT_EXCLUSIVE: u64 = 1;
/** Elements of one NFT_ELEMENTS: 1024 words (a u64s field) of 5-word ports_ip elements. */
const ELEMENTS_PER_OP: i32 = 204;
const BIND_CREATE: u64 = 4;
const PEER = "eth0";
const USED_MAX: i32 = 65536;
const PORTS_MAX: i32 = 1024;

class Port {
  constructor(public hostIp: string, public hostPort: u64, public port: u64, public proto: string) {}
}

export class NetRequest {
  present: bool = false;
  name: string = "";
  bridge: string = "";
  subnet: Cidr = new Cidr(0, 0);
  gateway: u32 = 0;
  flags: u64 = 0;
  used: Set<u32> = new Set<u32>();
  usedCount: i32 = 0;
  hasIp: bool = false;
  ip: string = "";
  hasFiles: bool = false;
  filesDir: string = "";
  nameservers: string[] = [];
  search: string[] = [];
  ports: Port[] = [];
  hasNames: bool = false;
  /** --name (empty when it has none) and --network-alias, as typed. */
  containerName: string = "";
  aliases: string[] = [];
  hasOptions: bool = false;
  /** --dns, --add-host NAME:IP, --mac-address, as typed. */
  dns: string[] = [];
  addHosts: string[] = [];
  mac: string = "";
  /** -P, and the host ports in use (listening, or published by other containers). */
  publishAll: bool = false;
  busy: Set<u64> = new Set<u64>();
  /** Decided by decideAddress: the /etc/hosts lines of --add-host. */
  hostLines: string = "";
  /** Decided by decideAddress. */
  address: u32 = 0;
  /** NET_ATTACH6: the network's IPv6 subnet (null: it has none) and gateway, --ip6 as typed. */
  has6: bool = false;
  subnet6: Cidr6 | null = null;
  gateway6: Ip6 = new Ip6(0, 0);
  ip6: string = "";
  /** IPv6 addresses others hold, canonical text. */
  used6: Set<string> = new Set<string>();
  /** Decided by decideAddress: the container's IPv6 address on a dual-stack network. */
  address6: Ip6 | null = null;
}

export function isNetItem(type: u32): bool {
  return (type >= REQ_NET_ATTACH && type <= REQ_NET_NAMES) || type == REQ_NET_OPTIONS || type == REQ_NET_PUBLISH_ALL || type == REQ_NET_ATTACH6 || type == REQ_NET_USED6;
}

export function decodeNetFrame(type: u32, ptr: usize, len: i32, index: i32, req: NetRequest): Failure | null {
  const f = Fields.ofFrame(ptr, len, index, "NET");
  if (type == REQ_NET_ATTACH) {
    if (req.present) return malformed(f.context + ": a second NET_ATTACH");
    req.present = true;
    req.name = f.str("name", STR_MAX);
    req.bridge = f.str("bridge", STR_MAX);
    const subnet = parseCidr(f.str("subnet", STR_MAX));
    const gateway = parseIp(f.str("gateway", STR_MAX));
    req.flags = f.u64("flags");
    if (subnet === null || gateway < 0) return malformed(f.context + ": subnet or gateway not an address");
    req.subnet = subnet;
    req.gateway = <u32>gateway;
  } else if (type == REQ_NET_USED) {
    const list = f.strs("addresses", STR_MAX);
    for (let i = 0; i < list.length; i++) {
      const ip = parseIp(list[i]);
      if (ip < 0) return malformed(f.context + ": not an address: " + list[i]);
      if (req.usedCount == USED_MAX) return malformed(f.context + ": more than 65536 addresses");
      req.used.add(<u32>ip);
      req.usedCount++;
    }
  } else if (type == REQ_NET_ATTACH6) {
    if (req.has6) return malformed(f.context + ": a second NET_ATTACH6");
    req.has6 = true;
    const text = f.str("subnet", STR_MAX);
    const gatewayText = f.str("gateway", STR_MAX);
    req.ip6 = f.str("ip", STR_MAX);
    if (text.length > 0) {
      const subnet = parseCidr6(text);
      const gateway = parseIp6(gatewayText);
      if (subnet === null || gateway === null) return malformed(f.context + ": IPv6 subnet or gateway not an address");
      req.subnet6 = subnet;
      req.gateway6 = gateway;
    }
  } else if (type == REQ_NET_USED6) {
    const list = f.strs("addresses", STR_MAX);
    for (let i = 0; i < list.length; i++) {
      const ip = parseIp6(list[i]);
      if (ip === null) return malformed(f.context + ": not an IPv6 address: " + list[i]);
      if (req.used6.size == USED_MAX) return malformed(f.context + ": more than 65536 addresses");
      req.used6.add(formatIp6(ip));
    }
  } else if (type == REQ_NET_IP) {
    if (req.hasIp) return malformed(f.context + ": a second NET_IP");
    req.hasIp = true;
    req.ip = f.str("address", STR_MAX);
  } else if (type == REQ_NET_FILES) {
    if (req.hasFiles) return malformed(f.context + ": a second NET_FILES");
    req.hasFiles = true;
    req.filesDir = f.str("dir", PATH_MAX - 16);
    req.nameservers = f.strs("nameservers", 256);
    req.search = f.strs("search", 256);
  } else if (type == REQ_NET_NAMES) {
    if (req.hasNames) return malformed(f.context + ": a second NET_NAMES");
    req.hasNames = true;
    req.containerName = f.str("name", STR_MAX);
    req.aliases = f.strs("aliases", 256);
  } else if (type == REQ_NET_PUBLISH_ALL) {
    // Repeatable: the busy ports come 1024 a frame.
    req.publishAll = true;
    const busy = f.u64s("busy");
    for (let i = 0; i < busy.length; i++) req.busy.add(busy[i]);
  } else if (type == REQ_NET_OPTIONS) {
    if (req.hasOptions) return malformed(f.context + ": a second NET_OPTIONS");
    req.hasOptions = true;
    req.dns = f.strs("dns", 64);
    req.addHosts = f.strs("add_hosts", 512);
    req.mac = f.str("mac", 64);
  } else {
    if (req.ports.length == PORTS_MAX) return malformed(f.context + ": more than 1024 NET_PORT");
    const hostIp = f.str("host_ip", 64);
    const hostPort = f.u64("host_port");
    const port = f.u64("port");
    const proto = f.str("proto", 16);
    req.ports.push(new Port(hostIp, hostPort, port, proto));
  }
  if (!f.finish()) return f.failure;
  return null;
}

/** Picks the container's address; the reason names the flag when it cannot. */
export function decideAddress(req: NetRequest, netNew: bool): Failure | null {
  if (!req.present) {
    if (req.hasIp || req.hasFiles || req.usedCount > 0 || req.ports.length > 0 || req.hasNames || req.hasOptions || req.publishAll || req.has6 || req.used6.size > 0) return malformed("request: NET items without NET_ATTACH");
    return null;
  }
  const optionProblem = decideOptions(req);
  if (optionProblem !== null) return optionProblem;
  for (let i = 0; i < req.aliases.length; i++) {
    // docker's rule: the default bridge network has no names to add to.
    if (!hasDns(req)) return invalid("network-alias: network-scoped aliases are supported only for containers in user-defined networks (not " + req.name + ")");
    const problem = checkDnsName(req.aliases[i]);
    if (problem !== null) return invalid("network-alias " + req.aliases[i] + ": " + problem);
  }
  if (!netNew) return invalid("network " + req.name + ": the container shares or joins a network namespace (--net host, ns:, container:), so it cannot be attached to a network");
  if (req.hasFiles && (req.filesDir.length == 0 || req.filesDir.charCodeAt(0) != 0x2f)) return malformed("request: NET_FILES dir not absolute");
  for (let i = 0; i < req.ports.length; i++) {
    const p = req.ports[i];
    if (p.proto != "tcp" && p.proto != "udp") return invalid("publish: " + p.proto + ": only tcp and udp can be published");
    if (p.hostPort == 0 || p.hostPort > 65535 || p.port == 0 || p.port > 65535) return invalid("publish: port " + p.hostPort.toString() + ":" + p.port.toString() + " out of range 1–65535");
    if (p.hostIp.length > 0 && parseIp(p.hostIp) < 0) return invalid("publish: " + p.hostIp + ": not an IPv4 address");
    for (let j = 0; j < i; j++) {
      const q = req.ports[j];
      if (q.proto == p.proto && q.hostPort == p.hostPort && q.hostIp == p.hostIp) return invalid("publish: host port " + p.hostPort.toString() + "/" + p.proto + " given twice");
    }
  }
  const problem = decideAddress4(req);
  if (problem !== null) return problem;
  return decideAddress6(req);
}

function decideAddress4(req: NetRequest): Failure | null {
  const s = req.subnet;
  if (req.hasIp) {
    const ip = parseIp(req.ip);
    if (ip < 0) return invalid("ip: invalid address: " + req.ip);
    const a = <u32>ip;
    if (!s.contains(a) || a == s.network || a == s.broadcast) return invalid("ip " + req.ip + ": not a host address of network " + req.name + " (" + s.subnetText() + ")");
    if (a == req.gateway) return invalid("ip " + req.ip + ": is the gateway of network " + req.name);
    if (req.used.has(a)) return invalid("ip " + req.ip + ": already in use on network " + req.name);
    req.address = a;
    return null;
  }
  for (let a = s.network + 1; a < s.broadcast; a++) {
    if (a != req.gateway && !req.used.has(a)) {
      req.address = a;
      return null;
    }
  }
  return invalid("network " + req.name + ": no free address left in " + s.subnetText());
}

/** The IPv6 address on a dual-stack network: --ip6, or the lowest free one above the subnet's first. */
function decideAddress6(req: NetRequest): Failure | null {
  if (!req.has6) return null;
  const s = req.subnet6;
  if (s === null) {
    if (req.ip6.length > 0) return invalid("ip6 " + req.ip6 + ": network " + req.name + " has no IPv6 subnet (make it with network create --ipv6)");
    return null;
  }
  const network = s.network;
  if (req.ip6.length > 0) {
    const a = parseIp6(req.ip6);
    if (a === null) return invalid("ip6: invalid IPv6 address: " + req.ip6);
    if (!s.contains(a) || a.equals(network)) return invalid("ip6 " + req.ip6 + ": not a host address of network " + req.name + " (" + s.subnetText() + ")");
    if (a.equals(req.gateway6)) return invalid("ip6 " + req.ip6 + ": is the gateway of network " + req.name);
    if (req.used6.has(formatIp6(a))) return invalid("ip6 " + req.ip6 + ": already in use on network " + req.name);
    req.address6 = a;
    return null;
  }
  for (let n: u64 = 1; n < SCAN6_MAX; n++) {
    const a = addLow(network, n);
    if (!s.contains(a)) break;
    if (!a.equals(req.gateway6) && !req.used6.has(formatIp6(a))) {
      req.address6 = a;
      return null;
    }
  }
  return invalid("network " + req.name + ": no free IPv6 address left in " + s.subnetText());
}

/**
 * -P: each of the image's exposed tcp/udp ports that no -p publishes gets the lowest host port
 * of 32768–60999 that is not busy (listening on the host, or another container's) nor given
 * to another port of this container. Runs before decideAddress, which checks every port.
 */
export function publishExposed(req: NetRequest, exposed: string[]): Failure | null {
  if (!req.present || !req.publishAll) return null;
  let next = PUBLISH_ALL_FIRST;
  for (let i = 0; i < exposed.length; i++) {
    const slash = exposed[i].indexOf("/");
    const proto = exposed[i].slice(slash + 1);
    if (proto != "tcp" && proto != "udp") continue; // sctp: not published by husk
    const port = <u64>I32.parseInt(exposed[i].slice(0, slash));
    let published = false;
    for (let j = 0; j < req.ports.length; j++) if (req.ports[j].port == port && req.ports[j].proto == proto) published = true;
    if (published) continue;
    while (next <= PUBLISH_ALL_LAST && (req.busy.has(next) || hostPortGiven(req, next))) next++;
    if (next > PUBLISH_ALL_LAST) return invalid("publish-all: no free host port left in 32768–60999 for " + exposed[i]);
    req.ports.push(new Port("", next, port, proto));
    next++;
  }
  return null;
}

function hostPortGiven(req: NetRequest, hostPort: u64): bool {
  for (let i = 0; i < req.ports.length; i++) if (req.ports[i].hostPort == hostPort) return true;
  return false;
}

/** --dns, --add-host and --mac-address: checked, and the hosts lines made (before the address is known: `host-gateway` is the gateway). */
function decideOptions(req: NetRequest): Failure | null {
  for (let i = 0; i < req.dns.length; i++) {
    if (parseIp(req.dns[i]) < 0) return invalid("dns: " + req.dns[i] + ": not an IPv4 address");
  }
  let lines = "";
  for (let i = 0; i < req.addHosts.length; i++) {
    const entry = req.addHosts[i];
    // docker's NAME:IP (NAME=IP too); the address may be host-gateway.
    let at = entry.indexOf("=");
    if (at < 0) at = entry.indexOf(":");
    if (at < 0) return invalid("add-host " + entry + ": expected NAME:IP");
    const name = entry.slice(0, at);
    const ip = entry.slice(at + 1);
    const problem = checkDnsName(name);
    if (problem !== null) return invalid("add-host " + entry + ": " + name + ": " + problem);
    if (ip != "host-gateway" && parseIp(ip) < 0) return invalid("add-host " + entry + ": " + ip + ": not an IPv4 address (or host-gateway)");
    lines += (ip == "host-gateway" ? formatIp(req.gateway) : ip) + "\t" + name + "\n";
  }
  req.hostLines = lines;
  if (req.mac.length > 0) {
    const mac = req.mac.toLowerCase();
    if (!isMac(mac)) return invalid("mac-address " + req.mac + ": not a MAC address xx:xx:xx:xx:xx:xx");
    // Bit 0 of the first byte: a multicast address cannot be a link's own.
    if ((hexDigit(mac.charCodeAt(1)) & 1) != 0) return invalid("mac-address " + req.mac + ": a multicast address, not a link's own");
    req.mac = mac;
  }
  return null;
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

function isMac(mac: string): bool {
  if (mac.length != 17) return false;
  for (let i = 0; i < 17; i++) {
    const c = mac.charCodeAt(i);
    if (i % 3 == 2 ? c != 0x3a : hexDigit(c) < 0) return false;
  }
  return true;
}

/** The container's MAC on the network: --mac-address, or docker's 02:42 + the address. */
export function macFor(req: NetRequest): string {
  return req.mac.length > 0 ? req.mac : macOf(req.address);
}

/** Names are served (by husk-dns on the gateway) on every network but the default one, as docker's. */
export function hasDns(req: NetRequest): bool {
  return req.name != DEFAULT_NAME;
}

/** The host end's name: `husk-` and 10 characters of the id (IFNAMSIZ allows 15). */
export function vethName(id: string): string {
  return "husk-" + id.slice(0, 10);
}

/** Parent op, right after CLONE: the pair, its peer made in the container's namespace. */
export function netVethOp(plan: PlanWriter, req: NetRequest, id: string): void {
  if (!req.present) return;
  plan.netOp(T_NET_VETH, "net-veth", [vethName(id), PEER, req.bridge, macFor(req)]);
}

/**
 * Parent op, after NET_VETH: the published ports as elements of `ports` and `ports_ip`
 * (`create`: a host port another holds fails the start with EEXIST, and nothing is left);
 * the monitor deletes them when the container ends.
 */
export function netPortsOp(plan: PlanWriter, req: NetRequest): void {
  if (!req.present) return;
  writePortOps(plan, req, T_NFT_ELEMENTS, NFT_EXCLUSIVE);
}

function writePortOps(plan: PlanWriter, req: NetRequest, type: u16, flags: u64): void {
  writePortOps4(plan, req, type, flags);
  writePortOps6(plan, req, type, flags);
}

/** A port published on any host address reaches the container over IPv6 too (ports6), on a dual-stack network. */
function writePortOps6(plan: PlanWriter, req: NetRequest, type: u16, flags: u64): void {
  const address = req.address6;
  if (address === null) return;
  // Seven words an element: at most this many in one u64s field of 1024.
  const perOp: i32 = 1024 / 7;
  let words = new Array<u64>();
  let count = 0;
  for (let i = 0; i < req.ports.length; i++) {
    const p = req.ports[i];
    if (p.hostIp.length != 0 && p.hostIp != "0.0.0.0") continue;
    portWords6(p.proto, p.hostPort, address, p.port, words);
    if (++count == perOp) {
      plan.nftElements(type, FAMILY_INET, TABLE_NAME, "ports6", flags, 2, 5, words);
      words = new Array<u64>();
      count = 0;
    }
  }
  if (count > 0) plan.nftElements(type, FAMILY_INET, TABLE_NAME, "ports6", flags, 2, 5, words);
}

function writePortOps4(plan: PlanWriter, req: NetRequest, type: u16, flags: u64): void {
  for (let pass = 0; pass < 2; pass++) {
    const anyHost = pass == 0;
    let words = new Array<u64>();
    let count = 0;
    for (let i = 0; i < req.ports.length; i++) {
      const p = req.ports[i];
      const isAny = p.hostIp.length == 0 || p.hostIp == "0.0.0.0";
      if (isAny != anyHost) continue;
      portWords(isAny ? 0 : <u32>parseIp(p.hostIp), isAny, p.proto, p.hostPort, req.address, p.port, words);
      if (++count == ELEMENTS_PER_OP) {
        plan.nftElements(type, FAMILY_INET, TABLE_NAME, anyHost ? "ports" : "ports_ip", flags, anyHost ? 2 : 3, 2, words);
        words = new Array<u64>();
        count = 0;
      }
    }
    if (count > 0) plan.nftElements(type, FAMILY_INET, TABLE_NAME, anyHost ? "ports" : "ports_ip", flags, anyHost ? 2 : 3, 2, words);
  }
}

/** The control plan that deletes the container's port elements, as lowercase hex (a `str` holds no NUL). */
function unpublishPlanHex(req: NetRequest): string {
  const plan = new PlanWriter();
  plan.hello(0);
  writePortOps(plan, req, T_NFT_DELETE, 0);
  plan.end();
  assert(plan.ok, "unpublish: at most 1024 ports fit a plan");
  return toHex(plan.bytes());
}

function toHex(bytes: Uint8Array): string {
  const digits = "0123456789abcdef";
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += digits.charAt(bytes[i] >> 4) + digits.charAt(bytes[i] & 15);
  return out;
}

/** Before PIVOT_ROOT: the three files ts/ wrote from the summary, bound over the image's. */
export function netFileOps(plan: PlanWriter, req: NetRequest): void {
  if (!req.present || !req.hasFiles) return;
  plan.bind(req.filesDir + "/hosts", "etc/hosts", BIND_CREATE);
  plan.bind(req.filesDir + "/hostname", "etc/hostname", BIND_CREATE);
  plan.bind(req.filesDir + "/resolv.conf", "etc/resolv.conf", BIND_CREATE);
}

/** In the container's namespace, after `lo`: eth0 up, its address, the default route. */
export function netContainerOps(plan: PlanWriter, req: NetRequest): void {
  if (!req.present) return;
  plan.netOp(T_NET_LINK_UP, "net-link-up", [PEER]);
  plan.netAddr(T_NET_ADDR, PEER, formatIp(req.address) + "/" + req.subnet.prefix.toString(), 0);
  const address6 = req.address6;
  const subnet6 = req.subnet6;
  // NODAD: usable at once, not tentative for the seconds duplicate address detection takes.
  if (address6 !== null && subnet6 !== null) plan.netAddr(T_NET_ADDR, PEER, formatIp6(address6) + "/" + subnet6.prefix.toString(), ADDR_NODAD);
  // An --internal network has no way out, so no default route either.
  if ((req.flags & NET_INTERNAL) != 0) return;
  plan.netOp(T_NET_ROUTE, "net-route", [formatIp(req.gateway), PEER]);
  if (address6 !== null) plan.netOp(T_NET_ROUTE, "net-route", [formatIp6(req.gateway6), PEER]);
}

/** The summary's network frames: what ts/ records, the files it writes, the port elements. */
export function writeNetSummary(w: Writer, req: NetRequest, id: string, hostname: string): void {
  if (!req.present) return;
  const address = formatIp(req.address);
  writeChosen(w, req, vethName(id));
  if (req.hasFiles) {
    const address6 = req.address6;
    const line6 = address6 !== null ? formatIp6(address6) + "\t" + hostname + "\n" : "";
    file(w, "hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" + address + "\t" + hostname + "\n" + line6 + req.hostLines);
    file(w, "hostname", hostname + "\n");
    // --dns replaces the host's resolvers: in the file, or (with names) where husk-dns forwards this container's queries.
    file(w, "resolv.conf", resolvConf(req.search, req.dns.length > 0 ? req.dns : req.nameservers, hasDns(req) ? formatIp(req.gateway) : ""));
    writeDns(w, req, id, vethName(id));
  }
  if (req.ports.length > 0) {
    for (let i = 0; i < req.ports.length; i++) {
      const p = req.ports[i];
      w.begin(ANS_NET_PUBLISHED, "net-published");
      w.str("host_ip", p.hostIp, STR_MAX);
      w.u64(p.hostPort);
      w.u64(p.port);
      w.str("proto", p.proto, STR_MAX);
      w.end();
    }
    // For the next husk command when the monitor was killed before it could delete them.
    w.begin(ANS_NET_PORTS, "net-ports");
    w.str("unpublish", unpublishPlanHex(req), STR_MAX);
    w.end();
  }
}

/** NET_CHOSEN: what the container got on the network. */
export function writeChosen(w: Writer, req: NetRequest, veth: string): void {
  w.begin(ANS_NET_CHOSEN, "net-chosen");
  w.str("network", req.name, STR_MAX);
  w.str("address", formatIp(req.address), STR_MAX);
  w.u64(<u64>req.subnet.prefix);
  w.str("mac", macFor(req), STR_MAX);
  w.str("veth", veth, STR_MAX);
  w.str("gateway", formatIp(req.gateway), STR_MAX);
  w.end();
  const address6 = req.address6;
  const subnet6 = req.subnet6;
  if (address6 === null || subnet6 === null) return;
  w.begin(ANS_NET_CHOSEN6, "net-chosen6");
  w.str("address", formatIp6(address6), STR_MAX);
  w.u64(<u64>subnet6.prefix);
  w.str("gateway", formatIp6(req.gateway6), STR_MAX);
  w.end();
}

/** NET_DNS, on a network with names: where husk-dns listens and forwards, the container's records line. */
export function writeDns(w: Writer, req: NetRequest, id: string, link: string): void {
  if (!hasDns(req)) return;
  w.begin(ANS_NET_DNS, "net-dns");
  w.str("listen", formatIp(req.gateway), STR_MAX);
  w.strs("upstreams", (req.flags & NET_INTERNAL) != 0 ? [] : upstreamsOf(req.nameservers), STR_MAX);
  const internal = (req.flags & NET_INTERNAL) != 0;
  const address6 = req.address6;
  w.str("record", dnsRecordLine(formatIp(req.address), address6 === null ? "" : formatIp6(address6), req.containerName, id, req.aliases, internal ? [] : req.dns, link), STR_MAX);
  w.end();
}

function file(w: Writer, name: string, content: string): void {
  w.begin(ANS_NET_FILE, "net-file");
  w.str("name", name, STR_MAX);
  w.str("content", content, STR_MAX);
  w.end();
}
