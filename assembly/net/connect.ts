// `husk network connect|disconnect` of a running container (docs/networks.md "Connect and
// disconnect"; docs/core-abi.md "networkConnect"): the address, MAC and names it gets on one
// more network, the names of its links, and the control plan that adds them in its network
// namespace (NET_CONNECT) or takes them away (NET_LINK_DEL of the host end: the peer goes
// with it).
//
// networkConnect(len): the container's NET items (0x0344–0x0349, as buildPlan's) and CONNECT
// 0x034a, or DISCONNECT 0x034b alone. Answer: connect — NET_CHOSEN 0x0352, NET_PEER 0x0356,
// [NET_DNS 0x0355], then HELLO, NET_CONNECT, END; disconnect — HELLO, NET_LINK_DEL, END.

import { answer, badLength, fail, Failure, inputPointer, invalid, malformed } from "../abi";
import { Fields, FrameReader, STR_MAX, Writer } from "../codec";
import { HELLO_MAGIC, PLAN_MAX, PROTOCOL_VERSION, T_END, T_HELLO } from "../plan/encode";
import { decideAddress, decodeNetFrame, isNetItem, macFor, NetRequest, writeChosen, writeDns } from "./attach";
import { formatIp } from "./ip";

export const REQ_NET_CONNECT: u32 = 0x034a;
export const REQ_NET_DISCONNECT: u32 = 0x034b;
export const ANS_NET_PEER: u16 = 0x0356;
const T_NET_LINK_DEL: u16 = 0x0091;
const T_NET_CONNECT: u16 = 0x0097;
/** eth0 is the first network's; eth1 … eth9 the ones connected later. */
const PEERS_MAX: i32 = 10;

class ConnectRequest {
  net: NetRequest = new NetRequest();
  connects: i32 = 0;
  id: string = "";
  pid: u64 = 0;
  startTime: u64 = 0;
  /** The container's links (eth0, …) and the networks it is on. */
  links: string[] = [];
  networks: string[] = [];
  disconnects: i32 = 0;
  veth: string = "";
}

export function networkConnect(len: i32): i32 {
  const ptr = inputPointer(len);
  if (ptr == 0) return badLength(len);
  const req = new ConnectRequest();
  const failure = decode(ptr, len, req);
  if (failure !== null) return fail(failure);
  return req.connects == 1 ? connect(req) : disconnect(req);
}

function decode(ptr: usize, len: i32, req: ConnectRequest): Failure | null {
  const r = new FrameReader(ptr, len);
  while (r.next()) {
    if (isNetItem(r.type)) {
      const failure = decodeNetFrame(r.type, r.payload, r.payloadLength, r.index, req.net);
      if (failure !== null) return failure;
      continue;
    }
    const f = Fields.ofFrame(r.payload, r.payloadLength, r.index, "NET");
    if (r.type == REQ_NET_CONNECT) {
      req.connects++;
      req.id = f.str("id", STR_MAX);
      req.pid = f.u64("pid");
      req.startTime = f.u64("start_time");
      req.links = f.strs("links", 64);
      req.networks = f.strs("networks", STR_MAX);
    } else if (r.type == REQ_NET_DISCONNECT) {
      req.disconnects++;
      req.veth = f.str("veth", 64);
    } else {
      return malformed(r.where() + ": unknown type 0x" + r.type.toString(16));
    }
    if (!f.finish()) return f.failure;
  }
  if (r.failure !== null) return r.failure;
  if (req.connects + req.disconnects != 1) return malformed("request: not exactly one NET_CONNECT or NET_DISCONNECT");
  if (req.connects == 1 && !req.net.present) return malformed("request: NET_CONNECT without NET_ATTACH");
  if (req.disconnects == 1 && req.net.present) return malformed("request: NET_DISCONNECT with NET_ATTACH");
  return null;
}

/** The lowest ethN the container does not have, or -1 when it has all ten. */
function freePeer(links: string[]): i32 {
  for (let n = 0; n < PEERS_MAX; n++) if (!links.includes("eth" + n.toString())) return n;
  return -1;
}

function connect(req: ConnectRequest): i32 {
  const n = req.net;
  if (req.id.length < 12) return fail(malformed("request: NET_CONNECT id shorter than 12"));
  if (req.pid == 0 || req.pid > 0x7fffffff) return fail(malformed("request: NET_CONNECT pid out of range"));
  if (n.ports.length > 0) return fail(invalid("network connect: ports are published by run -p, not by connect"));
  const who = n.containerName.length > 0 ? n.containerName : req.id.slice(0, 12);
  if (req.networks.includes(n.name)) return fail(invalid("container " + who + " is already connected to network " + n.name));
  const peer = freePeer(req.links);
  if (peer < 0) return fail(invalid("container " + who + " is on 10 networks already"));
  const problem = decideAddress(n, true);
  if (problem !== null) return fail(problem);
  // `husk-` + 8 characters of the id + `.N`: 15 bytes, and never the first network's name.
  const veth = "husk-" + req.id.slice(0, 8) + "." + peer.toString();
  const peerName = "eth" + peer.toString();
  const w = new Writer(PLAN_MAX);
  writeChosen(w, n, veth);
  w.begin(ANS_NET_PEER, "net-peer");
  w.str("peer", peerName, STR_MAX);
  w.end();
  writeDns(w, n, req.id, veth);
  hello(w);
  w.begin(T_NET_CONNECT, "net-connect");
  w.str("host", veth, STR_MAX);
  w.str("peer", peerName, STR_MAX);
  w.str("bridge", n.bridge, STR_MAX);
  w.str("mac", macFor(n), STR_MAX);
  w.str("address", formatIp(n.address) + "/" + n.subnet.prefix.toString(), STR_MAX);
  w.u64(req.pid);
  w.u64(req.startTime);
  w.end();
  w.begin(T_END, "end");
  w.end();
  assert(w.ok, "networkConnect: a few small frames fit");
  return answer(w.buf, w.len);
}

function disconnect(req: ConnectRequest): i32 {
  if (!req.veth.startsWith("husk-") || req.veth.length > 15) return fail(invalid("network disconnect: the record's link is not husk's: " + req.veth));
  const w = new Writer(PLAN_MAX);
  hello(w);
  w.begin(T_NET_LINK_DEL, "net-link-del");
  w.str("name", req.veth, STR_MAX);
  w.end();
  w.begin(T_END, "end");
  w.end();
  assert(w.ok, "networkConnect: a few small frames fit");
  return answer(w.buf, w.len);
}

function hello(w: Writer): void {
  w.begin(T_HELLO, "hello");
  w.u64(HELLO_MAGIC);
  w.u64(PROTOCOL_VERSION);
  w.u64(0);
  w.end();
}
