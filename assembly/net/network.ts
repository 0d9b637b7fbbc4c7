// Networks (docs/networks.md, docs/core-abi.md "Networks"): what a network is (its bridge,
// subnet and gateway, chosen so that they collide with nothing the host routes or another
// network holds), the nftables rules that give it NAT and keep networks apart, and the
// control plan that makes or removes its bridge. The container's side (its address, MAC,
// veth and files) is ./attach.ts.
//
// networkPlan(len): items 0x0340–0x0343 (and for a dual-stack network 0x0358–0x035a) in;
// NETWORK 0x0350 (NETWORK6 0x035b) and NFT 0x0351, then the control plan (HELLO … END) out.

import { answer, badLength, fail, Failure, inputPointer, invalid, malformed } from "../abi";
import { Fields, FrameReader, STR_MAX, Writer } from "../codec";
import { HELLO_MAGIC, PLAN_MAX, PROTOCOL_VERSION, T_END, T_HELLO } from "../plan/encode";
import { Cidr, formatIp, parseCidr, parseIp } from "./ip";
import { Cidr6, formatIp6, Ip6, parseCidr6, parseIp6 } from "./ip6";
import { baseRules, networkElements, TABLE } from "./nft";

export const REQ_NETWORK_CREATE: u32 = 0x0340;
export const REQ_NETWORK_TAKEN: u32 = 0x0341;
export const REQ_HOST_ROUTE: u32 = 0x0342;
export const REQ_NETWORK_REMOVE: u32 = 0x0343;
/** IPv6 of a network (docs/networks.md "IPv6"): create's --ipv6, --subnet and --gateway of it; remove's subnet. */
export const REQ_NETWORK_IPV6: u32 = 0x0358;
export const REQ_NETWORK_TAKEN6: u32 = 0x0359;
export const REQ_HOST_ROUTE6: u32 = 0x035a;
export const ANS_NETWORK6: u16 = 0x035b;
/** NETWORK_IPV6 flags: bit 0 --ipv6 (a subnet of it alone is refused without). */
export const NET6_ENABLE: u64 = 1;
export const ANS_NETWORK: u16 = 0x0350;
export const ANS_NFT: u16 = 0x0351;
export const T_NET_BRIDGE: u16 = 0x0090;
export const T_NET_LINK_DEL: u16 = 0x0091;
export const T_NET_SYSCTL: u16 = 0x0092;

/** NETWORK_CREATE / NETWORK_REMOVE flags. */
export const NET_INTERNAL: u64 = 1;
export const NET_DEFAULT: u64 = 2;
/** NETWORK_REMOVE: no other network is left, so the table goes too. */
export const NET_LAST: u64 = 4;
const NET_FLAGS_KNOWN: u64 = 7;

/** The default network's name, bridge and subnet (podman's), when nothing the host routes holds it. */
export const DEFAULT_NAME = "husk";
const TAKEN_MAX: i32 = 4096;
const NAME_MAX: i32 = 64;

class Taken {
  constructor(public name: string, public bridge: string, public subnet: Cidr) {}
}

class Taken6 {
  constructor(public name: string, public subnet: Cidr6) {}
}

/** The IPv6 smallest and largest prefix of a network's subnet: room for many containers, a /64 the usual. */
const PREFIX6_MIN: i32 = 48;
const PREFIX6_MAX: i32 = 112;

class NetworkRequest {
  creates: i32 = 0;
  removes: i32 = 0;
  name: string = "";
  subnet: string = "";
  gateway: string = "";
  bridge: string = "";
  flags: u64 = 0;
  taken: Taken[] = [];
  routes: Cidr[] = [];
  /** NETWORK_IPV6 seen, its flags, subnet and gateway as typed. */
  has6: bool = false;
  flags6: u64 = 0;
  subnet6: string = "";
  gateway6: string = "";
  taken6: Taken6[] = [];
  routes6: Cidr6[] = [];
}

export function networkPlan(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const req = new NetworkRequest();
  const failure = decode(ptr, len, req);
  if (failure !== null) return fail(failure);
  return req.creates == 1 ? create(req) : remove(req);
}

function decode(ptr: usize, len: i32, req: NetworkRequest): Failure | null {
  const r = new FrameReader(ptr, len);
  while (r.next()) {
    const f = Fields.ofFrame(r.payload, r.payloadLength, r.index, "NETWORK");
    if (r.type == REQ_NETWORK_CREATE || r.type == REQ_NETWORK_REMOVE) {
      req.name = f.str("name", STR_MAX);
      if (r.type == REQ_NETWORK_REMOVE) req.bridge = f.str("bridge", STR_MAX);
      req.subnet = f.str("subnet", STR_MAX);
      if (r.type == REQ_NETWORK_CREATE) req.gateway = f.str("gateway", STR_MAX);
      req.flags = f.u64("flags");
      if (r.type == REQ_NETWORK_CREATE) req.creates++;
      else req.removes++;
    } else if (r.type == REQ_NETWORK_TAKEN) {
      const name = f.str("name", STR_MAX);
      const bridge = f.str("bridge", STR_MAX);
      const subnet = parseCidr(f.str("subnet", STR_MAX));
      if (subnet === null) return malformed(r.where() + ": NETWORK_TAKEN subnet: not A.B.C.D/N");
      if (req.taken.length == TAKEN_MAX) return malformed(r.where() + ": more than 4096 NETWORK_TAKEN");
      req.taken.push(new Taken(name, bridge, subnet));
    } else if (r.type == REQ_HOST_ROUTE) {
      const route = parseCidr(f.str("subnet", STR_MAX));
      if (route === null) return malformed(r.where() + ": HOST_ROUTE subnet: not A.B.C.D/N");
      if (req.routes.length == TAKEN_MAX) return malformed(r.where() + ": more than 4096 HOST_ROUTE");
      req.routes.push(route);
    } else if (r.type == REQ_NETWORK_IPV6) {
      if (req.has6) return malformed(r.where() + ": a second NETWORK_IPV6");
      req.has6 = true;
      req.subnet6 = f.str("subnet", STR_MAX);
      req.gateway6 = f.str("gateway", STR_MAX);
      req.flags6 = f.u64("flags");
    } else if (r.type == REQ_NETWORK_TAKEN6) {
      const name = f.str("name", STR_MAX);
      const subnet = parseCidr6(f.str("subnet", STR_MAX));
      if (subnet === null) return malformed(r.where() + ": NETWORK_TAKEN6 subnet: not an IPv6 CIDR");
      if (req.taken6.length == TAKEN_MAX) return malformed(r.where() + ": more than 4096 NETWORK_TAKEN6");
      req.taken6.push(new Taken6(name, subnet));
    } else if (r.type == REQ_HOST_ROUTE6) {
      const route = parseCidr6(f.str("subnet", STR_MAX));
      if (route === null) return malformed(r.where() + ": HOST_ROUTE6 subnet: not an IPv6 CIDR");
      if (req.routes6.length == TAKEN_MAX) return malformed(r.where() + ": more than 4096 HOST_ROUTE6");
      req.routes6.push(route);
    } else {
      return malformed(r.where() + ": unknown type 0x" + r.type.toString(16));
    }
    if (!f.finish()) return f.failure;
  }
  if (r.failure !== null) return r.failure;
  if ((req.flags6 & ~NET6_ENABLE) != 0) return malformed("request: NETWORK_IPV6 flags: unknown bits");
  if (req.creates + req.removes != 1) return malformed("request: not exactly one NETWORK_CREATE or NETWORK_REMOVE");
  if ((req.flags & ~NET_FLAGS_KNOWN) != 0) return malformed("request: NETWORK flags: unknown bits");
  return null;
}

/** docker's rule for a network name: [a-zA-Z0-9][a-zA-Z0-9_.-]*, here at most 64 bytes. */
export function checkName(name: string): string | null {
  if (name.length == 0) return "network name: empty";
  if (name.length > NAME_MAX) return "network name " + name + ": longer than 64 bytes";
  if (name == "none" || name == "host" || name == "default" || name == "bridge") return "network name " + name + ": reserved (--network " + name + " means something else)";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && (i == 0 || (c != 0x5f && c != 0x2e && c != 0x2d))) return "network name " + name + ": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed";
  }
  return null;
}

function collides(req: NetworkRequest, subnet: Cidr): string | null {
  for (let i = 0; i < req.taken.length; i++) {
    if (req.taken[i].subnet.overlaps(subnet)) return "network " + req.taken[i].name + " (" + req.taken[i].subnet.subnetText() + ")";
  }
  for (let i = 0; i < req.routes.length; i++) {
    // The default route covers everything; only routes to a subnet say it is in use.
    if (req.routes[i].prefix > 0 && req.routes[i].overlaps(subnet)) return "a route of this host (" + req.routes[i].subnetText() + ")";
  }
  return null;
}

/** The first free subnet: 10.88.0.0/16 for the default network, else 10.89.0.0/24, 10.89.1.0/24, … */
function pickSubnet(req: NetworkRequest): Cidr | null {
  if ((req.flags & NET_DEFAULT) != 0) {
    for (let second: u32 = 88; second < 256; second++) {
      const c = new Cidr((10 << 24) | (second << 16), 16);
      if (collides(req, c) === null) return c;
    }
    return null;
  }
  for (let n: u32 = 0; n < 256 * 166; n++) {
    const c = new Cidr((10 << 24) | ((89 + (n >> 8)) << 16) | ((n & 255) << 8), 24);
    if (collides(req, c) === null) return c;
  }
  return null;
}

function collides6(req: NetworkRequest, subnet: Cidr6): string | null {
  for (let i = 0; i < req.taken6.length; i++) {
    if (req.taken6[i].subnet.overlaps(subnet)) return "network " + req.taken6[i].name + " (" + req.taken6[i].subnet.subnetText() + ")";
  }
  for (let i = 0; i < req.routes6.length; i++) {
    if (req.routes6[i].prefix > 0 && req.routes6[i].overlaps(subnet)) return "a route of this host (" + req.routes6[i].subnetText() + ")";
  }
  return null;
}

/** husk's own unique local /48, fd68:7573:6b00::/48 ("husk" in ASCII): its /64s in order, the first free one. */
const ULA_HI: u64 = 0xfd6875736b000000;

function pickSubnet6(req: NetworkRequest): Cidr6 | null {
  for (let n: u64 = 0; n < 65536; n++) {
    const c = new Cidr6(new Ip6(ULA_HI | n, 0), 64);
    if (collides6(req, c) === null) return c;
  }
  return null;
}

/** A dual-stack network's IPv6 subnet and gateway, or why not; null subnet: IPv4 only. */
class Decided6 {
  subnet: Cidr6 | null = null;
  gateway: Ip6 = new Ip6(0, 0);
  problem: string | null = null;
}

function decide6(req: NetworkRequest): Decided6 {
  const d = new Decided6();
  if (!req.has6) return d;
  const enabled = (req.flags6 & NET6_ENABLE) != 0;
  if (!enabled) {
    if (req.subnet6.length > 0) d.problem = "subnet " + req.subnet6 + ": an IPv6 subnet needs --ipv6";
    else if (req.gateway6.length > 0) d.problem = "gateway " + req.gateway6 + ": an IPv6 gateway needs --ipv6";
    return d;
  }
  let subnet: Cidr6 | null = null;
  if (req.subnet6.length > 0) {
    subnet = parseCidr6(req.subnet6);
    if (subnet === null) {
      d.problem = "subnet: invalid IPv6 CIDR address: " + req.subnet6;
      return d;
    }
    if (!subnet.isUniqueLocal()) {
      d.problem = "subnet " + req.subnet6 + ": not a unique local IPv6 subnet (fc00::/7): husk masquerades a network's traffic, so its subnet is a private one (e.g. fd00:1::/64)";
      return d;
    }
    if (subnet.prefix < PREFIX6_MIN || subnet.prefix > PREFIX6_MAX) {
      d.problem = "subnet " + req.subnet6 + ": the IPv6 prefix must be /48 to /112 (a /64 is usual)";
      return d;
    }
    const clash = collides6(req, subnet);
    if (clash !== null) {
      d.problem = "subnet " + subnet.subnetText() + " overlaps " + clash;
      return d;
    }
  } else {
    subnet = pickSubnet6(req);
    if (subnet === null) {
      d.problem = "subnet: no free IPv6 subnet in fd68:7573:6b00::/48\nGive one with --subnet.";
      return d;
    }
  }
  const network = subnet.network;
  let gateway = new Ip6(network.hi, network.lo + 1);
  if (req.gateway6.length > 0) {
    const g = parseIp6(req.gateway6);
    if (g === null) {
      d.problem = "gateway: invalid IPv6 address: " + req.gateway6;
      return d;
    }
    if (!subnet.contains(g) || g.equals(network)) {
      d.problem = "gateway " + req.gateway6 + ": not a host address of " + subnet.subnetText();
      return d;
    }
    gateway = g;
  }
  d.subnet = new Cidr6(network, subnet.prefix);
  d.gateway = gateway;
  return d;
}

function pickBridge(req: NetworkRequest): string {
  if ((req.flags & NET_DEFAULT) != 0) return "husk0";
  for (let i = 1; ; i++) {
    const name = "husk" + i.toString();
    let used = false;
    for (let j = 0; j < req.taken.length; j++) if (req.taken[j].bridge == name) used = true;
    if (!used) return name;
  }
  return "";
}

function create(req: NetworkRequest): i32 {
  if ((req.flags & NET_DEFAULT) == 0) {
    const nameProblem = checkName(req.name);
    if (nameProblem !== null) return fail(invalid(nameProblem));
  }
  for (let i = 0; i < req.taken.length; i++) {
    if (req.taken[i].name == req.name) return fail(invalid("network with name " + req.name + " already exists"));
  }
  let subnet: Cidr | null = null;
  if (req.subnet.length > 0) {
    subnet = parseCidr(req.subnet);
    if (subnet === null) return fail(invalid("subnet: invalid CIDR address: " + req.subnet));
    if (subnet.prefix > 30 || subnet.prefix < 8) return fail(invalid("subnet " + req.subnet + ": the prefix must be /8 to /30"));
    const clash = collides(req, subnet);
    if (clash !== null) return fail(invalid("subnet " + subnet.subnetText() + " overlaps " + clash));
  } else {
    subnet = pickSubnet(req);
    if (subnet === null) return fail(invalid("subnet: no free private subnet in 10.88.0.0–10.255.255.0\nGive one with --subnet."));
  }
  let gateway: u32 = subnet.network + 1;
  if (req.gateway.length > 0) {
    const g = parseIp(req.gateway);
    if (g < 0) return fail(invalid("gateway: invalid address: " + req.gateway));
    if (!subnet.contains(<u32>g) || <u32>g == subnet.network || <u32>g == subnet.broadcast) return fail(invalid("gateway " + req.gateway + ": not a host address of " + subnet.subnetText()));
    gateway = <u32>g;
  }
  const six = decide6(req);
  if (six.problem !== null) return fail(invalid(six.problem!));
  const subnet6 = six.subnet;
  const bridge = pickBridge(req);
  const internal = (req.flags & NET_INTERNAL) != 0;
  const w = new Writer(PLAN_MAX);
  w.begin(ANS_NETWORK, "network");
  w.str("name", req.name, STR_MAX);
  w.str("bridge", bridge, STR_MAX);
  w.str("subnet", subnet.subnetText(), STR_MAX);
  w.str("gateway", formatIp(gateway), STR_MAX);
  w.u64(req.flags & (NET_INTERNAL | NET_DEFAULT));
  w.end();
  if (subnet6 !== null) {
    w.begin(ANS_NETWORK6, "network6");
    w.str("subnet", subnet6.subnetText(), STR_MAX);
    w.str("gateway", formatIp6(six.gateway), STR_MAX);
    w.end();
  }
  w.begin(ANS_NFT, "nft");
  w.str("script", baseRules() + networkElements("add", bridge, subnet.subnetText(), subnet6 === null ? "" : subnet6.subnetText(), internal), STR_MAX);
  w.end();
  hello(w);
  // Routing between the bridge and the host's other links; 127.0.0.1 DNAT'd to a container
  // must be routable out of the bridge (docker's route_localnet).
  if (!internal) sysctl(w, "net/ipv4/ip_forward", "1");
  if (!internal && subnet6 !== null) sysctl(w, "net/ipv6/conf/all/forwarding", "1");
  bridgeOp(w, bridge, formatIp(gateway) + "/" + subnet.prefix.toString());
  sysctl(w, "net/ipv4/conf/" + bridge + "/route_localnet", "1");
  if (subnet6 !== null) {
    // No duplicate address detection on the bridge: its own link-local address is not
    // tentative either, and the gateway (added with NODAD by the launcher) answers at once.
    sysctl(w, "net/ipv6/conf/" + bridge + "/accept_dad", "0");
    bridgeOp(w, bridge, formatIp6(six.gateway) + "/" + subnet6.prefix.toString());
  }
  w.begin(T_END, "end");
  w.end();
  assert(w.ok, "networkPlan: a few small frames fit");
  return answer(w.buf, w.len);
}

/** NET_BRIDGE: the bridge (made when missing) with one more address; a dual-stack one gets two. */
function bridgeOp(w: Writer, bridge: string, address: string): void {
  w.begin(T_NET_BRIDGE, "net-bridge");
  w.str("name", bridge, STR_MAX);
  w.str("address", address, STR_MAX);
  w.end();
}

function sysctl(w: Writer, key: string, value: string): void {
  w.begin(T_NET_SYSCTL, "net-sysctl");
  w.str("key", key, STR_MAX);
  w.str("value", value, STR_MAX);
  w.end();
}

function hello(w: Writer): void {
  w.begin(T_HELLO, "hello");
  w.u64(HELLO_MAGIC);
  w.u64(PROTOCOL_VERSION);
  w.u64(0);
  w.end();
}

function remove(req: NetworkRequest): i32 {
  const subnet = parseCidr(req.subnet);
  if (subnet === null) return fail(invalid("network " + req.name + ": its record's subnet is not A.B.C.D/N: " + req.subnet));
  if (req.bridge.length == 0 || req.bridge.length > 15) return fail(invalid("network " + req.name + ": its record's bridge is not a link name: " + req.bridge));
  const w = new Writer(PLAN_MAX);
  w.begin(ANS_NFT, "nft");
  const last = (req.flags & NET_LAST) != 0;
  let subnet6 = "";
  if (req.subnet6.length > 0) {
    const c = parseCidr6(req.subnet6);
    if (c === null) return fail(invalid("network " + req.name + ": its record's IPv6 subnet is not an IPv6 CIDR: " + req.subnet6));
    subnet6 = c.subnetText();
  }
  w.str("script", last ? "delete table " + TABLE + "\n" : networkElements("delete", req.bridge, subnet.subnetText(), subnet6, (req.flags & NET_INTERNAL) != 0), STR_MAX);
  w.end();
  hello(w);
  w.begin(T_NET_LINK_DEL, "net-link-del");
  w.str("name", req.bridge, STR_MAX);
  w.end();
  w.begin(T_END, "end");
  w.end();
  assert(w.ok, "networkPlan: a few small frames fit");
  return answer(w.buf, w.len);
}
