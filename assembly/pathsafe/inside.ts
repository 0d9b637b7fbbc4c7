// A path named inside a root (an fs plan's entries, docs/core-abi.md "fsPlan"): the same
// path, cleaned, as the launcher takes it — relative, no empty, `.` or `..` component, `.`
// for the root itself. A leading `/` means the root (a layer's `/etc` is `etc`). A `..`
// component is refused outright rather than cleaned away: `a/../b` walks through `a`, which
// may be a symlink in the layer, so its lexical meaning is not what the kernel would do.

/** Why `path` is refused, or "" when `cleanInside(path)` is its clean form. */
export function insideRefusal(path: string): string {
  const parts = path.split("/");
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] == "..") return "has a '..' component";
  }
  return "";
}

/** `path` without empty and `.` components, relative; "." for the root itself. */
export function cleanInside(path: string): string {
  const parts = path.split("/");
  let out = "";
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.length == 0 || p == ".") continue;
    assert(p != "..", "cleanInside: a '..' component (insideRefusal first)");
    out = out.length == 0 ? p : out + "/" + p;
  }
  return out.length == 0 ? "." : out;
}
