/**
 * Preloaded with `node --import` into a payguard process: a wall clock that jumps. Every SIGUSR2
 * moves Date (Date.now() and `new Date()`) by the next offset in CLOCK_JUMPS_MS (comma-separated,
 * cumulative, e.g. "31536000000,-63072000000": a year forward, then two back), as NTP stepping the
 * clock, a VM resumed from a snapshot, or an operator's `date -s` would. Monotonic clocks
 * (performance.now, process.hrtime, timers) are untouched, as they are by a real clock step.
 * Plain JavaScript so the child needs no TypeScript loader.
 */
const RealDate = globalThis.Date;
const jumps = (process.env.CLOCK_JUMPS_MS ?? '').split(',').filter(Boolean).map(Number);
let offset = 0;

class JumpingDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offset;
  }
}
globalThis.Date = JumpingDate;

process.on('SIGUSR2', () => {
  offset += jumps.shift() ?? 0;
  process.stderr.write(`clock-jump: wall clock now ${new JumpingDate().toISOString()}\n`);
});
