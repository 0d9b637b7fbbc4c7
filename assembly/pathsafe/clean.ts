// Lexical path cleaning against a root (no filesystem): components, `.` and empty ones
// dropped, `..` removing the one before it. Used by whiteout/ and pathsafe/.

/** The clean components of `path`, or null when a `..` would leave the root. */
export function cleanParts(path: string): string[] | null {
  const out = new Array<string>();
  const n = path.length;
  let start = 0;
  while (start <= n) {
    let end = path.indexOf("/", start);
    if (end < 0) end = n;
    const len = end - start;
    if (len == 0 || (len == 1 && path.charCodeAt(start) == 46)) {
      // "" or "."
    } else if (len == 2 && path.charCodeAt(start) == 46 && path.charCodeAt(start + 1) == 46) {
      if (out.length == 0) return null;
      out.pop();
    } else {
      out.push(path.substring(start, end));
    }
    start = end + 1;
  }
  return out;
}

/** Components joined with `/`; the root is ".". */
export function joinParts(parts: string[]): string {
  return parts.length == 0 ? "." : parts.join("/");
}

/** The components of `parts` without the last one. */
export function parentParts(parts: string[]): string[] {
  return parts.slice(0, parts.length - 1);
}
