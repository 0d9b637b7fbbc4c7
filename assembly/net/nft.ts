// The nftables rules of husk's networks: one table, `inet husk`, whose rules never change
// once written; networks and published ports are elements of its sets and maps, so a new
// network or container adds elements instead of rewriting the ruleset, and the host's other
// tables are never touched.
//
// - nat_nets: subnets whose traffic out of the host is masqueraded (not --internal ones);
// - bridges: every husk bridge (traffic between two of them is dropped: networks are apart);
// - same: (bridge . bridge) pairs: traffic within one bridge is always let through (with
//   br_netfilter loaded, bridged frames reach the forward hook too);
// - internal: bridges of --internal networks (nothing is forwarded into or out of them);
// - ports / ports_ip: published ports, `PROTO . HOSTPORT : ADDR . PORT` (any host address)
//   and `HOSTIP . PROTO . HOSTPORT : ADDR . PORT`, DNAT'd in prerouting (from outside and
//   from containers: hairpin) and in output (from the host itself, 127.0.0.1 included);
// - nat_nets6, ports6: the same for IPv6 (dual-stack networks): subnets masqueraded, and a
//   port published on any host address as `PROTO . HOSTPORT : ADDR6 . PORT`.

import { Ip6 } from "./ip6";

export const TABLE = "inet husk";

const CHAINS: string[] = ["prerouting", "output", "postrouting", "forward"];

/**
 * The table, its sets and chains, and the chains' rules. Declaring what exists is a no-op
 * in nft, and each chain is flushed before its rules are written, in the same transaction:
 * the script is the same whether the table exists or not, and never duplicates a rule.
 */
export function baseRules(): string {
  let s = "table " + TABLE + " {\n";
  s += "  set nat_nets { type ipv4_addr; flags interval; }\n";
  s += "  set nat_nets6 { type ipv6_addr; flags interval; }\n";
  s += "  set bridges { type ifname; }\n";
  s += "  set internal { type ifname; }\n";
  s += "  set same { type ifname . ifname; }\n";
  s += "  map ports { type inet_proto . inet_service : ipv4_addr . inet_service; }\n";
  s += "  map ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }\n";
  s += "  map ports6 { type inet_proto . inet_service : ipv6_addr . inet_service; }\n";
  s += "  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }\n";
  s += "  chain output { type nat hook output priority -100; policy accept; }\n";
  s += "  chain postrouting { type nat hook postrouting priority srcnat; policy accept; }\n";
  s += "  chain forward { type filter hook forward priority filter; policy accept; }\n";
  s += "}\n";
  for (let i = 0; i < CHAINS.length; i++) s += "flush chain " + TABLE + " " + CHAINS[i] + "\n";
  const dnat = "fib daddr type local meta l4proto { tcp, udp } dnat ip to ";
  const dnat6 = "fib daddr type local meta l4proto { tcp, udp } dnat ip6 to meta l4proto . th dport map @ports6\n";
  s += "table " + TABLE + " {\n";
  s += "  chain prerouting {\n";
  s += "    " + dnat + "ip daddr . meta l4proto . th dport map @ports_ip\n";
  s += "    " + dnat + "meta l4proto . th dport map @ports\n";
  s += "    " + dnat6;
  s += "  }\n";
  s += "  chain output {\n";
  s += "    " + dnat + "ip daddr . meta l4proto . th dport map @ports_ip\n";
  s += "    " + dnat + "meta l4proto . th dport map @ports\n";
  s += "    " + dnat6;
  s += "  }\n";
  s += "  chain postrouting {\n";
  // 127.0.0.1:PORT reached a container: its answer must come back to the host.
  s += "    ct status dnat oifname @bridges ip saddr 127.0.0.0/8 masquerade\n";
  // Hairpin: a container reached a published port; the answer must come back through the host.
  s += "    ct status dnat oifname @bridges ip saddr @nat_nets masquerade\n";
  s += "    ip saddr @nat_nets oifname != @bridges masquerade\n";
  s += "    ct status dnat oifname @bridges ip6 saddr ::1 masquerade\n";
  s += "    ct status dnat oifname @bridges ip6 saddr @nat_nets6 masquerade\n";
  s += "    ip6 saddr @nat_nets6 oifname != @bridges masquerade\n";
  s += "  }\n";
  s += "  chain forward {\n";
  // Within one bridge (seen here when br_netfilter passes bridged frames to the IP hooks).
  s += "    iifname . oifname @same accept\n";
  s += "    iifname @internal drop\n";
  s += "    oifname @internal drop\n";
  s += "    iifname @bridges oifname @bridges ct status dnat accept\n";
  s += "    iifname @bridges oifname @bridges drop\n";
  s += "  }\n";
  s += "}\n";
  return s;
}

/** One network's elements, added (`add`) or removed (`delete`); `subnet6` empty: IPv4 only. */
export function networkElements(verb: string, bridge: string, subnet: string, subnet6: string, internal: bool): string {
  let s = verb + " element " + TABLE + " bridges { \"" + bridge + "\" }\n";
  s += verb + " element " + TABLE + " same { \"" + bridge + "\" . \"" + bridge + "\" }\n";
  if (internal) s += verb + " element " + TABLE + " internal { \"" + bridge + "\" }\n";
  else {
    s += verb + " element " + TABLE + " nat_nets { " + subnet + " }\n";
    if (subnet6.length > 0) s += verb + " element " + TABLE + " nat_nets6 { " + subnet6 + " }\n";
  }
  return s;
}

/** NFPROTO_INET: the family of `inet husk`, as the launcher's NFT_ELEMENTS names it. */
export const FAMILY_INET: u64 = 1;
export const TABLE_NAME = "husk";
/** IPPROTO_TCP and IPPROTO_UDP, the only protocols a port is published for. */
function protoNumber(proto: string): u64 {
  return proto == "udp" ? 17 : 6;
}

/**
 * A published port's element as nf_tables holds it (docs/protocol.md "NFT_ELEMENTS"): each
 * part of a concatenation takes whole 32-bit registers, its value big-endian first and zero
 * padding after (a protocol is 1 byte, a port 2, an address 4), written here as the words
 * the launcher puts on the wire big-endian. `ports`: PROTO . PORT : ADDR . PORT;
 * `ports_ip`: HOSTIP . PROTO . PORT : ADDR . PORT. Returns the set's name.
 */
export function portWords(hostIp: u32, anyHost: bool, proto: string, hostPort: u64, address: u32, port: u64, words: u64[]): string {
  if (!anyHost) words.push(<u64>hostIp);
  words.push(protoNumber(proto) << 24);
  words.push(hostPort << 16);
  words.push(<u64>address);
  words.push(port << 16);
  return anyHost ? "ports" : "ports_ip";
}

/** A port published on any host address, for IPv6: `ports6`, PROTO . PORT : ADDR6 (four words) . PORT. */
export function portWords6(proto: string, hostPort: u64, address: Ip6, port: u64, words: u64[]): void {
  words.push(protoNumber(proto) << 24);
  words.push(hostPort << 16);
  words.push(address.hi >> 32);
  words.push(address.hi & 0xffffffff);
  words.push(address.lo >> 32);
  words.push(address.lo & 0xffffffff);
  words.push(port << 16);
}
