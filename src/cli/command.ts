/** The shape every `payguard <command>` module exports. */
export interface Command {
  readonly name: string;
  /** One line for `payguard --help`. */
  readonly summary: string;
  /** The full text for `payguard <command> --help`. */
  readonly usage: string;
  /** Returns the process exit code. Throws UsageError for bad arguments (exit 2). */
  run(argv: readonly string[]): Promise<number>;
}
