// Go's text/tabwriter (elastic tabstops), as docker's table output uses it.
//
// Text is cut into cells terminated by '\t' (or '\v'); '\n' and '\f' end a
// line. Tab-terminated cells in consecutive lines form a column; the last
// cell of a line is not part of any column. A column is as wide as its
// widest cell plus padding, and at least minwidth.
//
//   const w = new TabWriter({ minwidth: 10, tabwidth: 1, padding: 3, padchar: ' ', width: 'display' });
//   w.write('ID\tNAME\n1\tweb\n');
//   w.flush(); // 'ID           NAME\n1            web\n'
//
// Go's FilterHTML and Escape features are not implemented.

import { displayWidth } from './display-width.js';
import { runeCount } from './template-value.js';

export const AlignRight = 4;
export const DiscardEmptyColumns = 8;
export const TabIndent = 16;
export const Debug = 32;

export interface TabWriterOptions {
  /** Minimal cell width including padding. */
  minwidth: number;
  /** Width of a tab character when padchar is '\t'. */
  tabwidth: number;
  /** Added to a cell's width before computing the column width. */
  padding: number;
  /** The padding character; '\t' pads with tabs and forces left alignment. */
  padchar: string;
  /** AlignRight | DiscardEmptyColumns | TabIndent | Debug */
  flags?: number;
  /**
   * How cell text is measured: 'runes' like Go's text/tabwriter (the
   * default), 'display' like docker's fork (terminal columns: wide CJK
   * characters count two), or a function.
   */
  width?: 'runes' | 'display' | ((s: string) => number);
}

interface Cell {
  text: string;
  width: number;
  htab: boolean; // terminated by '\t' rather than '\v'
}

export class TabWriter {
  private readonly minwidth: number;
  private readonly tabwidth: number;
  private readonly padding: number;
  private readonly padchar: string;
  private readonly flags: number;
  private readonly measure: (s: string) => number;

  private out = '';
  private cell = ''; // text of the current, unterminated cell
  private lines: Cell[][] = [[]];
  private widths: number[] = [];

  constructor(opts: TabWriterOptions) {
    if (opts.minwidth < 0 || opts.tabwidth < 0 || opts.padding < 0) throw new RangeError('negative minwidth, tabwidth, or padding');
    if (opts.padchar.length !== 1) throw new RangeError('padchar must be one character');
    this.minwidth = opts.minwidth;
    this.tabwidth = opts.tabwidth;
    this.padding = opts.padding;
    this.padchar = opts.padchar;
    let flags = opts.flags ?? 0;
    if (opts.padchar === '\t') flags &= ~AlignRight; // tab padding enforces left alignment
    this.flags = flags;
    const w = opts.width ?? 'runes';
    this.measure = w === 'runes' ? runeCount : w === 'display' ? displayWidth : w;
  }

  /** Buffers text; output appears once columns are complete (or on flush). */
  write(text: string): void {
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x09 && c !== 0x0b && c !== 0x0a && c !== 0x0c) continue;
      this.cell += text.slice(n, i);
      n = i + 1;
      const ncells = this.terminateCell(c === 0x09);
      if (c === 0x0a || c === 0x0c) {
        this.lines.push([]);
        // A line with a single cell ends every column: nothing above can change.
        if (c === 0x0c || ncells === 1) {
          this.flushBuffered();
          if (c === 0x0c && this.flags & Debug) this.out += '---\n';
        }
      }
    }
    this.cell += text.slice(n);
  }

  /** Formats everything buffered and returns all output not yet returned. */
  flush(): string {
    this.flushBuffered();
    const out = this.out;
    this.out = '';
    return out;
  }

  private terminateCell(htab: boolean): number {
    const line = this.lines[this.lines.length - 1];
    line.push({ text: this.cell, width: this.measure(this.cell), htab });
    this.cell = '';
    return line.length;
  }

  private flushBuffered(): void {
    if (this.cell.length > 0) this.terminateCell(false);
    this.format(0, this.lines.length);
    this.cell = '';
    this.lines = [[]];
    this.widths = [];
  }

  private writePadding(textw: number, cellw: number, useTabs: boolean): void {
    if (this.padchar === '\t' || useTabs) {
      if (this.tabwidth === 0) return; // tabs have no width: no padding possible
      cellw = Math.ceil(cellw / this.tabwidth) * this.tabwidth;
      this.out += '\t'.repeat(Math.ceil((cellw - textw) / this.tabwidth));
      return;
    }
    if (cellw > textw) this.out += this.padchar.repeat(cellw - textw);
  }

  private writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.lines[i];
      let useTabs = (this.flags & TabIndent) !== 0; // tabs for leading empty cells
      line.forEach((c, j) => {
        if (j > 0 && this.flags & Debug) this.out += '|';
        if (c.text === '') {
          if (j < this.widths.length) this.writePadding(c.width, this.widths[j], useTabs);
          return;
        }
        useTabs = false;
        if (this.flags & AlignRight) {
          if (j < this.widths.length) this.writePadding(c.width, this.widths[j], false);
          this.out += c.text;
        } else {
          this.out += c.text;
          if (j < this.widths.length) this.writePadding(c.width, this.widths[j], false);
        }
      });
      // The last buffered line has no newline yet.
      if (i + 1 === this.lines.length) this.out += this.cell;
      else this.out += '\n';
    }
  }

  /** Lays out lines [line0, line1), knowing the widths of the columns left of widths.length. */
  private format(line0: number, line1: number): void {
    const column = this.widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= this.lines[t].length - 1) continue;
      // A block of consecutive lines with a cell in this column starts here.
      this.writeLines(line0, t);
      line0 = t;
      let width = this.minwidth;
      let discardable = true;
      for (; t < line1; t++) {
        const line = this.lines[t];
        if (column >= line.length - 1) break;
        const c = line[column];
        width = Math.max(width, c.width + this.padding);
        if (c.width > 0 || c.htab) discardable = false;
      }
      if (discardable && this.flags & DiscardEmptyColumns) width = 0;
      this.widths.push(width);
      this.format(line0, t);
      this.widths.pop();
      line0 = t;
    }
    this.writeLines(line0, line1);
  }
}
