/**
 * The append-only evidence log: one JSON record per line, each carrying the sha256 of the line
 * before it. One writer per state dir (the running proxy). Bounded: the current file is rotated
 * at `maxFileBytes`, and only the newest `maxFiles` files are kept.
 */
import { mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { lineHash } from './chain.js';
import { CURRENT_FILE, evidenceDir, listLogFiles, rotatedName } from './files.js';
import { GENESIS_HASH, type EvidenceEntry, type EvidenceRecord } from './record.js';

export interface EvidenceLogOptions {
  /** Rotate the current file once it reaches this size (default 8 MiB). */
  readonly maxFileBytes?: number;
  /** Files kept, the current one included (default 8); older ones are deleted. */
  readonly maxFiles?: number;
  /** The clock (tests pin it). */
  readonly now?: () => Date;
}

const DEFAULT_MAX_FILE_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_FILES = 8;

export class EvidenceLog {
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private handle: FileHandle,
    private size: number,
    private seq: number,
    private prev: string,
    private firstSeqOfCurrent: number,
    private readonly options: Required<EvidenceLogOptions>,
  ) {}

  static async open(stateDir: string, options: EvidenceLogOptions = {}): Promise<EvidenceLog> {
    const dir = evidenceDir(stateDir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tail = await readTail(stateDir);
    const handle = await open(join(dir, CURRENT_FILE), 'a', 0o600);
    let size = (await handle.stat()).size;
    if (size > 0 && !(await readFile(join(dir, CURRENT_FILE), 'utf8')).endsWith('\n')) {
      // Finish a torn line so the next record starts on its own line.
      await handle.write('\n');
      size += 1;
    }
    const resolved = { maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, maxFiles: options.maxFiles ?? DEFAULT_MAX_FILES, now: options.now ?? (() => new Date()) };
    return new EvidenceLog(dir, handle, size, tail.seq, tail.hash, tail.firstSeqOfCurrent ?? tail.seq + 1, resolved);
  }

  /** Numbers, chains and writes one record; appends are serialised in call order. */
  append(entry: EvidenceEntry): Promise<EvidenceRecord> {
    const written = this.queue.then(() => this.write(entry));
    this.queue = written.then(
      () => undefined,
      () => undefined,
    );
    return written;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.handle.close();
  }

  private async write(entry: EvidenceEntry): Promise<EvidenceRecord> {
    if (this.size >= this.options.maxFileBytes) await this.rotate();
    const record = { seq: this.seq + 1, at: this.options.now().toISOString(), prev: this.prev, ...entry } as EvidenceRecord;
    const line = JSON.stringify(record);
    // One write per record: a crash leaves at most one torn last line, which the check names.
    await this.handle.write(line + '\n');
    this.seq = record.seq;
    this.prev = lineHash(line);
    this.size += Buffer.byteLength(line) + 1;
    return record;
  }

  private async rotate(): Promise<void> {
    await this.handle.close();
    await rename(join(this.dir, CURRENT_FILE), join(this.dir, rotatedName(this.firstSeqOfCurrent)));
    this.handle = await open(join(this.dir, CURRENT_FILE), 'a', 0o600);
    this.size = 0;
    this.firstSeqOfCurrent = this.seq + 1;
    const rotated = (await listLogFiles(join(this.dir, '..'))).filter((f) => basename(f) !== CURRENT_FILE);
    for (const old of rotated.slice(0, Math.max(0, rotated.length - (this.options.maxFiles - 1)))) await rm(old, { force: true });
  }
}

/** The last record's seq and line hash, to continue the chain after a restart. */
async function readTail(stateDir: string): Promise<{ seq: number; hash: string; firstSeqOfCurrent: number | undefined }> {
  const files = await listLogFiles(stateDir);
  let firstSeqOfCurrent: number | undefined;
  for (const file of files.reverse()) {
    if ((await stat(file)).size === 0) continue;
    const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
    const last = lines.at(-1);
    if (last === undefined) continue;
    const seqOf = (text: string | undefined): number | undefined => {
      try {
        const seq = (JSON.parse(text ?? '') as { seq?: unknown }).seq;
        return Number.isSafeInteger(seq) ? (seq as number) : undefined;
      } catch {
        return undefined;
      }
    };
    if (basename(file) === CURRENT_FILE) firstSeqOfCurrent = seqOf(lines[0]);
    // A torn last line keeps its place in the chain: the next record links to it, and the
    // check names it as the broken record instead of it vanishing silently.
    const seq = seqOf(last) ?? (seqOf(lines.at(-2)) ?? 0) + 1;
    return { seq, hash: lineHash(last), firstSeqOfCurrent };
  }
  return { seq: 0, hash: GENESIS_HASH, firstSeqOfCurrent };
}
