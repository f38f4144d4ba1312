/**
 * Strict JSON syntax (RFC 8259) with the offset of the first error. A .json policy must be JSON,
 * not YAML that happens to parse (comments, unquoted strings, single quotes, trailing commas): a
 * reviewer reading it as JSON must see what payguard sees. JSON.parse's messages carry no position
 * on some inputs (V8 says only "Unexpected token"), so we find the offset ourselves.
 */
import { LIMITS } from '../limits.js';

export interface JsonSyntaxProblem {
  readonly offset: number;
  readonly message: string;
}

/** The first JSON syntax error in `text`, or undefined when it is one valid JSON value. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  const scanner = new JsonScanner(text);
  try {
    scanner.skipWhitespace();
    scanner.value(0);
    scanner.skipWhitespace();
    if (scanner.pos < text.length) scanner.fail('unexpected text after the JSON value');
    return undefined;
  } catch (err) {
    if (err instanceof JsonSyntaxFailure) return { offset: err.offset, message: err.message };
    throw err;
  }
}

class JsonSyntaxFailure extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

// Deep enough for any real policy; bounded so hostile input cannot exhaust the stack.
const MAX_DEPTH = LIMITS.maxPolicyNesting;

class JsonScanner {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new JsonSyntaxFailure(this.pos, message);
  }

  skipWhitespace(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos]!)) this.pos++;
  }

  value(depth: number): void {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const literal of ['true', 'false', 'null']) {
      if (this.text.startsWith(literal, this.pos)) {
        this.pos += literal.length;
        return;
      }
    }
    this.failNotJson(`unexpected ${JSON.stringify(c)}: not JSON (unquoted strings are YAML syntax; use a .yaml file for YAML)`);
  }

  /** Names the YAML habit that most likely produced the character, else `otherwise`. */
  private failNotJson(otherwise: string): never {
    const c = this.text[this.pos];
    if (c === undefined) this.fail('unexpected end of JSON');
    if (c === "'") this.fail('JSON strings use double quotes');
    if (c === '#' || c === '/') this.fail('JSON has no comments');
    this.fail(otherwise);
  }

  private object(depth: number): void {
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.failNotJson('expected a double-quoted property name');
      this.string();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail("expected ':' after the property name");
      this.pos++;
      this.skipWhitespace();
      this.value(depth + 1);
      this.skipWhitespace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === '}') return;
      if (c !== ',') {
        this.pos--;
        this.fail("expected ',' or '}' after a property value");
      }
      this.skipWhitespace();
      if (this.text[this.pos] === '}') this.fail('trailing comma (not allowed in JSON)');
    }
  }

  private array(depth: number): void {
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      this.value(depth + 1);
      this.skipWhitespace();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') return;
      if (c !== ',') {
        this.pos--;
        this.fail("expected ',' or ']' after an array element");
      }
      this.skipWhitespace();
      if (this.text[this.pos] === ']') this.fail('trailing comma (not allowed in JSON)');
    }
  }

  private string(): void {
    this.pos++;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === '"') {
        this.pos++;
        return;
      }
      if (c < ' ') this.fail('control character in a string (escape it)');
      if (c === '\\') {
        const e = this.text[this.pos + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) this.fail('bad \\u escape');
          this.pos += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) this.fail('bad escape in a string');
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    this.fail('unterminated string');
  }

  private number(): void {
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!match) this.fail('malformed number');
    this.pos += match[0].length;
  }
}
