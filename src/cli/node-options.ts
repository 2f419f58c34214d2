/**
 * @module
 * Options for the node process that runs `junction serve`. V8 sizes its young generation when
 * the process starts (set later through `v8.setFlagsFromString`, it made things worse), so they
 * go on node's command line: `npm start` (package.json) and the bin's shebang (`main.ts`) carry
 * them, and the tests and benchmarks that start servers use this list, so they run what users
 * run.
 *
 * `--max-semi-space-size=32` (MB; Node 20's default is 16): a request's objects, its events and
 * their jobs live for a commit's round trip, a few milliseconds, and at tens of thousands of
 * events per second too many of them outlive a scavenge with 16 MB, are promoted, and cost the
 * old generation's collector instead. bench:ingest, alternating runs: sync FULL 2,603 and 3,154
 * requests/s with it against 1,799 and 2,116 without (CPU 0.34–0.43 against 0.56–0.63 ms per
 * request). It costs resident memory under load only (the young generation grows with the
 * allocation rate): see docs/server.md, Memory.
 */
export const SERVE_NODE_OPTIONS = ['--max-semi-space-size=32']
