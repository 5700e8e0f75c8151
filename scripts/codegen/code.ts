/** Tiny indentation-aware line buffer for emitting TypeScript. */
export class Code {
  private readonly lines: string[] = [];
  private depth = 0;

  line(s = ''): this {
    this.lines.push(s === '' ? '' : '  '.repeat(this.depth) + s);
    return this;
  }

  /** Emits `header {` and indents. */
  open(header: string): this {
    this.line(`${header} {`);
    this.depth++;
    return this;
  }

  indent(): this {
    this.depth++;
    return this;
  }

  dedent(): this {
    this.depth--;
    return this;
  }

  /** Dedents and emits `}` (or the given closing text). */
  close(s = '}'): this {
    this.depth--;
    if (this.depth < 0) throw new Error('unbalanced Code.close()');
    this.line(s);
    return this;
  }

  /** Dedents, emits `} <s> {` and indents again (for else / else if). */
  reopen(s: string): this {
    this.depth--;
    this.line(`} ${s} {`);
    this.depth++;
    return this;
  }

  toString(): string {
    if (this.depth !== 0) throw new Error('unbalanced Code blocks');
    return this.lines.join('\n') + '\n';
  }
}

/** Renders a JS string literal with single quotes. */
export function str(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

/** Makes text safe inside a block comment. */
export function commentText(s: string): string {
  return s.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ').trim();
}

export const RESERVED = new Set([
  'arguments', 'await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default',
  'delete', 'do', 'else', 'enum', 'eval', 'export', 'extends', 'false', 'finally', 'for', 'function',
  'if', 'implements', 'import', 'in', 'instanceof', 'interface', 'let', 'new', 'null', 'package',
  'private', 'protected', 'public', 'return', 'static', 'super', 'switch', 'this', 'throw', 'true',
  'try', 'typeof', 'undefined', 'var', 'void', 'while', 'with', 'yield', 'NaN', 'Infinity',
]);
