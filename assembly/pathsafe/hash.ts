// FNV-1a (64-bit) over the char codes of a path, so that the hash of a prefix is a state
// on the way to the hash of the whole path: walking a path, the hash of every ancestor comes
// for free, without making the ancestor's string (which would cost O(depth × length)).

export const FNV_OFFSET: u64 = 0xcbf29ce484222325;
const FNV_PRIME: u64 = 0x100000001b3;

@inline export function hashChar(h: u64, c: i32): u64 {
  return (h ^ <u64>(c & 0xff)) * FNV_PRIME;
}

export function hashString(h: u64, s: string): u64 {
  for (let i = 0; i < s.length; i++) h = hashChar(h, s.charCodeAt(i));
  return h;
}

/** The hash of `prefix + "/" + c` (or of `c` at the root) from the hash of `prefix`. */
export function hashChild(prefix: u64, atRoot: bool, c: string): u64 {
  return hashString(atRoot ? FNV_OFFSET : hashChar(prefix, 47), c);
}
