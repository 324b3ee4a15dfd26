import { BlockList, isIP } from "node:net";

/** Why an address may not be reached from the server: it is inside our network, not on the public internet. */
export type AddressClass =
  | "unspecified"
  | "loopback"
  | "private"
  | "link-local"
  | "cloud-metadata"
  | "unique-local"
  | "cgnat"
  | "multicast"
  | "reserved";

// Order matters: the first matching range names the class (metadata before link-local).
const IPV4_RANGES: ReadonlyArray<[string, number, AddressClass]> = [
  ["169.254.169.254", 32, "cloud-metadata"],
  ["0.0.0.0", 8, "unspecified"],
  ["127.0.0.0", 8, "loopback"],
  ["10.0.0.0", 8, "private"],
  ["172.16.0.0", 12, "private"],
  ["192.168.0.0", 16, "private"],
  ["169.254.0.0", 16, "link-local"],
  ["100.64.0.0", 10, "cgnat"], // also holds Alibaba's metadata service, 100.100.100.200
  ["224.0.0.0", 4, "multicast"],
  ["192.0.0.0", 24, "reserved"], // IETF protocol assignments
  ["192.0.2.0", 24, "reserved"], // documentation
  ["198.51.100.0", 24, "reserved"],
  ["203.0.113.0", 24, "reserved"],
  ["198.18.0.0", 15, "reserved"], // benchmarking
  ["240.0.0.0", 4, "reserved"], // includes 255.255.255.255
];

const IPV6_RANGES: ReadonlyArray<[string, number, AddressClass]> = [
  ["fd00:ec2::254", 128, "cloud-metadata"], // AWS's IPv6 metadata endpoint
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "private"], // deprecated site-local
  ["fc00::", 7, "unique-local"],
  ["ff00::", 8, "multicast"],
  ["::", 96, "reserved"], // deprecated IPv4-compatible
  ["100::", 64, "reserved"], // discard
  ["2001:db8::", 32, "reserved"], // documentation
];

function listFor(family: "ipv4" | "ipv6", ranges: ReadonlyArray<[string, number, AddressClass]>) {
  return ranges.map(([net, prefix, kind]) => {
    const list = new BlockList();
    list.addSubnet(net, prefix, family);
    return { list, kind };
  });
}
const ipv4Lists = listFor("ipv4", IPV4_RANGES);
const ipv6Lists = listFor("ipv6", IPV6_RANGES);

/** The eight 16-bit groups of an IPv6 address (zone id dropped, a trailing dotted quad folded in). */
function ipv6Groups(address: string): number[] {
  let text = address.split("%")[0]!.toLowerCase();
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad[1]!.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, -quad[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

function ipv4FromGroups(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

/**
 * The IPv4 address an IPv6 address carries and that a packet would really reach: IPv4-mapped
 * (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). Undefined for any other address.
 */
function embeddedIpv4(groups: number[]): string | undefined {
  const zeroUpTo = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeroUpTo(5) && groups[5] === 0xffff) return ipv4FromGroups(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) {
    return ipv4FromGroups(groups[6]!, groups[7]!);
  }
  if (groups[0] === 0x2002) return ipv4FromGroups(groups[1]!, groups[2]!);
  return undefined;
}

/**
 * Classifies an IP address (v4, v6 or IPv4-mapped v6, with or without URL brackets); undefined means a
 * public address that outbound requests may reach. Anything that is not an IP address is "reserved":
 * a caller that asks about a name has a bug, and refusing is the safe answer.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const withoutZone = bare.split("%")[0]!;
  const family = isIP(withoutZone);
  if (family === 4) return ipv4Lists.find(({ list }) => list.check(withoutZone, "ipv4"))?.kind;
  if (family !== 6) return "reserved";
  const groups = ipv6Groups(withoutZone);
  const v4 = embeddedIpv4(groups);
  if (v4 !== undefined) return classifyAddress(v4);
  const canonical = groups.map((g) => g.toString(16)).join(":");
  return ipv6Lists.find(({ list }) => list.check(canonical, "ipv6"))?.kind;
}
