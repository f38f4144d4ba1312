/**
 * Rollback protection: the highest serial ever accepted, kept in the state dir so a restart keeps
 * it. An intruder on the storefront host cannot sign, but can put back an old, correctly signed
 * policy that allowed more; the floor refuses it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PolicyRollbackError, PolicyStateError } from '../errors.js';

export const FLOOR_FILE = 'policy-floor.json';

/** What the state dir remembers about the highest policy accepted (for people reading it too). */
export interface FloorRecord {
  readonly serial: number;
  readonly site: string;
  readonly sha256: string;
  readonly keyId: string;
  readonly acceptedAt: string;
}

/** The recorded floor, or undefined when this state dir has never accepted a policy. */
export async function readFloor(stateDir: string): Promise<FloorRecord | undefined> {
  const file = join(stateDir, FLOOR_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PolicyStateError(`cannot read the rollback floor: ${describeFsError(err)}`, { file }, { cause: err });
  }
  const record = parseRecord(text);
  // Fail closed: a floor we cannot read must not become "no floor".
  if (!record) throw new PolicyStateError('the rollback floor file is corrupt; restore it, or remove it knowingly to reset the floor', { file });
  return record;
}

/** Throws PolicyRollbackError when `serial` is below the floor. An equal serial is the same release (a restart). */
export function checkFloor(serial: number, floor: FloorRecord | undefined, policyFile: string): void {
  if (floor && serial < floor.serial) throw new PolicyRollbackError(serial, floor.serial, { file: policyFile, field: 'serial' });
}

/**
 * Records `record` as the new floor when it is higher than the current one. Atomic (temp file,
 * fsync, rename), so a crash or a full disk leaves the old floor intact, never a torn file.
 */
export async function raiseFloor(stateDir: string, current: FloorRecord | undefined, record: FloorRecord): Promise<void> {
  if (current && record.serial <= current.serial) return;
  const file = join(stateDir, FLOOR_FILE);
  const temp = join(stateDir, `.${FLOOR_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(record, null, 2) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    await syncDirectory(stateDir);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new PolicyStateError(`cannot record the rollback floor: ${describeFsError(err)}`, { file }, { cause: err });
  }
}

/** Makes the rename itself durable (POSIX: the directory entry lives in the directory). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  } finally {
    await handle.close();
  }
}

function parseRecord(text: string): FloorRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<FloorRecord>;
    if (typeof value.serial !== 'number' || !Number.isSafeInteger(value.serial) || value.serial < 1) return undefined;
    return value as FloorRecord;
  } catch {
    return undefined;
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return 'the disk is full';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied (the state dir must be writable by payguard)';
  if (code === 'EROFS') return 'the state dir is on a read-only filesystem';
  if (code === 'ENOTDIR') return 'the state dir path is not a directory';
  return (err as Error).message;
}
