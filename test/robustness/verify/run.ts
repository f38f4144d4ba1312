/**
 * fast-check settings shared by the verifier properties: a seed printed before every property so a
 * failure replays, a default run count small enough for 2 shared cores, and environment knobs to
 * replay or to run more:
 *
 *   PAYGUARD_PROPERTY_RUNS=N     run N cases per property instead of the default
 *   PAYGUARD_PROPERTY_SEED=S     replay with seed S (printed by every run)
 *   PAYGUARD_PROPERTY_PATH=P     replay only the counterexample path P (printed on failure)
 */
import type fc from 'fast-check';

/** Per-test limit: generous, so PAYGUARD_PROPERTY_RUNS can be raised without vitest's 60 s cutting a run short. */
export const PROPERTY_TIMEOUT_MS = 30 * 60_000;

export function propertyParameters(name: string, defaultRuns: number): fc.Parameters<unknown> {
  const seed = process.env.PAYGUARD_PROPERTY_SEED === undefined ? randomSeed() : Number(process.env.PAYGUARD_PROPERTY_SEED);
  const numRuns = process.env.PAYGUARD_PROPERTY_RUNS === undefined ? defaultRuns : Number(process.env.PAYGUARD_PROPERTY_RUNS);
  const path = process.env.PAYGUARD_PROPERTY_PATH;
  console.log(`[property] ${name}: seed ${seed}, ${numRuns} runs (replay: PAYGUARD_PROPERTY_SEED=${seed})`);
  return { seed, numRuns, ...(path ? { path } : {}) };
}

/** fast-check's seeds are 32-bit integers. */
function randomSeed(): number {
  return (Math.random() * 0x7fffffff) | 0;
}
