// The unpack suites again, with every layer tried on the fast path first
// (HUSK_UNPACK_FAST=always: the core turns the tar into the launcher's records): GNU tar
// equivalence, hostile tars and whiteouts must come out the same; what the core does not
// take it hands back, and the full path starts over and words every refusal.
process.env.HUSK_UNPACK_FAST = 'always';
await import('./unpack-tar.test.js');
await import('./unpack-hostile.test.js');
await import('./unpack-overlay.test.js');
