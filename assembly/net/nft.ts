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
//   from containers: hairpin) and in output (from the host itself, 127.0.0.1 included).

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
  s += "  set bridges { type ifname; }\n";
  s += "  set internal { type ifname; }\n";
  s += "  set same { type ifname . ifname; }\n";
  s += "  map ports { type inet_proto . inet_service : ipv4_addr . inet_service; }\n";
  s += "  map ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }\n";
  s += "  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }\n";
  s += "  chain output { type nat hook output priority -100; policy accept; }\n";
  s += "  chain postrouting { type nat hook postrouting priority srcnat; policy accept; }\n";
  s += "  chain forward { type filter hook forward priority filter; policy accept; }\n";
  s += "}\n";
  for (let i = 0; i < CHAINS.length; i++) s += "flush chain " + TABLE + " " + CHAINS[i] + "\n";
  const dnat = "fib daddr type local meta l4proto { tcp, udp } dnat ip to ";
  s += "table " + TABLE + " {\n";
  s += "  chain prerouting {\n";
  s += "    " + dnat + "ip daddr . meta l4proto . th dport map @ports_ip\n";
  s += "    " + dnat + "meta l4proto . th dport map @ports\n";
  s += "  }\n";
  s += "  chain output {\n";
  s += "    " + dnat + "ip daddr . meta l4proto . th dport map @ports_ip\n";
  s += "    " + dnat + "meta l4proto . th dport map @ports\n";
  s += "  }\n";
  s += "  chain postrouting {\n";
  // 127.0.0.1:PORT reached a container: its answer must come back to the host.
  s += "    ct status dnat oifname @bridges ip saddr 127.0.0.0/8 masquerade\n";
  // Hairpin: a container reached a published port; the answer must come back through the host.
  s += "    ct status dnat oifname @bridges ip saddr @nat_nets masquerade\n";
  s += "    ip saddr @nat_nets oifname != @bridges masquerade\n";
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

/** One network's elements, added (`add`) or removed (`delete`). */
export function networkElements(verb: string, bridge: string, subnet: string, internal: bool): string {
  let s = verb + " element " + TABLE + " bridges { \"" + bridge + "\" }\n";
  s += verb + " element " + TABLE + " same { \"" + bridge + "\" . \"" + bridge + "\" }\n";
  if (internal) s += verb + " element " + TABLE + " internal { \"" + bridge + "\" }\n";
  else s += verb + " element " + TABLE + " nat_nets { " + subnet + " }\n";
  return s;
}

/** One published port's element: `create` (fails when the port is taken) or `delete`. */
export function portElement(verb: string, hostIp: string, proto: string, hostPort: u64, address: string, port: u64): string {
  if (hostIp.length == 0 || hostIp == "0.0.0.0") {
    const key = proto + " . " + hostPort.toString();
    return verb + " element " + TABLE + " ports { " + key + (verb == "delete" ? "" : " : " + address + " . " + port.toString()) + " }\n";
  }
  const key = hostIp + " . " + proto + " . " + hostPort.toString();
  return verb + " element " + TABLE + " ports_ip { " + key + (verb == "delete" ? "" : " : " + address + " . " + port.toString()) + " }\n";
}
