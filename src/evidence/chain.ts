/**
 * Checking the hash chain. Each record names the sha256 of the line before it, so an edited
 * record no longer matches its successor's `prev`, and a deleted one leaves a seq gap and a
 * broken link. What the chain cannot show on its own: the newest records cut off the end
 * (compare the head hash with one recorded elsewhere, e.g. the last report) and the oldest
 * rotated files removed (the check then starts at the oldest record present and says so).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GENESIS_HASH, type EvidenceRecord } from './record.js';
import { listLogFiles } from './files.js';

export function lineHash(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex');
}

export interface RecordAt {
  readonly record: EvidenceRecord;
  readonly file: string;
  /** 1-based line in `file`. */
  readonly line: number;
}

export interface BrokenRecord {
  readonly file: string;
  readonly line: number;
  /** The seq of the broken record (the one edited, or the first missing one). */
  readonly seq: number;
  readonly problem: string;
}

export interface ChainCheck {
  readonly ok: boolean;
  readonly records: readonly RecordAt[];
  /** sha256 of the newest record (GENESIS_HASH for an empty log): write it down to detect truncation. */
  readonly head: string;
  /** seq of the oldest record present (1 unless old files were rotated away). */
  readonly firstSeq: number;
  readonly firstBroken: BrokenRecord | undefined;
}

/** Reads every record of the log and checks the chain; stops at the first break. */
export async function readEvidence(stateDir: string): Promise<ChainCheck> {
  const records: RecordAt[] = [];
  let previous: { hash: string; seq: number; file: string; line: number } | undefined;
  let firstSeq = 0;
  const broken = (b: BrokenRecord): ChainCheck => ({ ok: false, records, head: previous?.hash ?? GENESIS_HASH, firstSeq, firstBroken: b });
  for (const file of await listLogFiles(stateDir)) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const [i, text] of lines.entries()) {
      const line = i + 1;
      const record = parseRecord(text);
      if (!record) return broken({ file, line, seq: (previous?.seq ?? 0) + 1, problem: 'not a valid record (edited, or a torn write)' });
      if (!previous) {
        firstSeq = record.seq;
        if (record.seq === 1 && record.prev !== GENESIS_HASH) return broken({ file, line, seq: 1, problem: 'the first record does not start the chain' });
      } else if (record.seq !== previous.seq + 1) {
        return broken({ file, line, seq: previous.seq + 1, problem: `record ${previous.seq + 1} is missing (deleted): seq jumps from ${previous.seq} to ${record.seq}` });
      } else if (record.prev !== previous.hash) {
        return broken({
          file: previous.file,
          line: previous.line,
          seq: previous.seq,
          problem: `record ${previous.seq} was changed after it was written: its sha256 no longer matches the prev that record ${record.seq} holds`,
        });
      }
      records.push({ record, file, line });
      previous = { hash: lineHash(text), seq: record.seq, file, line };
    }
  }
  return { ok: true, records, head: previous?.hash ?? GENESIS_HASH, firstSeq, firstBroken: undefined };
}

function parseRecord(text: string): EvidenceRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const wellFormed =
    Number.isSafeInteger(r.seq) && (r.seq as number) >= 1 && typeof r.at === 'string' && typeof r.prev === 'string' && /^[0-9a-f]{64}$/.test(r.prev) && (r.type === 'policy-accepted' || r.type === 'detection');
  return wellFormed ? (value as EvidenceRecord) : undefined;
}
