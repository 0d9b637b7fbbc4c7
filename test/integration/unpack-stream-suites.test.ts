// The unpack suites again, with every layer written by the launcher from its first entry
// (HUSK_UNPACK_STREAM=always): GNU tar equivalence, hostile tars and whiteouts must come
// out the same whichever side writes the files.
process.env.HUSK_UNPACK_STREAM = 'always';
await import('./unpack-tar.test.js');
await import('./unpack-hostile.test.js');
await import('./unpack-overlay.test.js');
