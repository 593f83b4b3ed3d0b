import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlignRight, Debug, DiscardEmptyColumns, TabIndent, TabWriter, type TabWriterOptions } from './tabwriter.js';
import { displayWidth, runeWidth } from './display-width.js';

function tab(text: string | string[], opts: Partial<TabWriterOptions> = {}): string {
  const w = new TabWriter({ minwidth: 0, tabwidth: 8, padding: 1, padchar: '.', ...opts });
  for (const t of Array.isArray(text) ? text : [text]) w.write(t);
  return w.flush();
}

test('cells are tab-terminated; the last cell of a line is not in a column', () => {
  assert.equal(tab('a\tbbb\tc\naaa\tb\tcc\n'), 'a...bbb.c\naaa.b...cc\n');
  // Trailing text without a tab is never padded, however long.
  assert.equal(tab('x\ty\nlonger-than-the-column\n'), 'x.y\nlonger-than-the-column\n');
});

test('a column block is the run of consecutive lines with a cell in that column', () => {
  // The example in Go's documentation: b and c are in different blocks because
  // the third line has no cell in the second column.
  const out = tab('aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n');
  assert.equal(out, 'aaaa.bbb.d\naa...b...dd\na....\naa...cccc.eee\n');
  // A line without any tab ends every column.
  assert.equal(tab('a\tb\nno tabs here\naaaaa\tb\n'), 'a.b\nno tabs here\naaaaa.b\n');
});

test('minwidth and padding', () => {
  assert.equal(tab('a\tb\n', { minwidth: 5, padding: 0 }), 'a....b\n');
  assert.equal(tab('abcdef\tb\n', { minwidth: 5, padding: 2 }), 'abcdef..b\n');
  // docker's table settings
  const w = new TabWriter({ minwidth: 10, tabwidth: 1, padding: 3, padchar: ' ', width: 'display' });
  w.write('CONTAINER ID\tIMAGE\tNAMES\nabc\tnginx\tweb\n');
  assert.equal(w.flush(), 'CONTAINER ID   IMAGE     NAMES\nabc            nginx     web\n');
});

test('text arriving in pieces lays out as if written at once', () => {
  const whole = 'ID\tNAME\tX\n1\tlong name\ty\n22\tn\tz\n';
  assert.equal(tab(['I', 'D\tNA', 'ME\tX\n1\tlong', ' name\ty\n22', '\tn\tz\n']), tab(whole));
});

test('flush emits an unterminated last line and resets', () => {
  const w = new TabWriter({ minwidth: 0, tabwidth: 8, padding: 1, padchar: '-' });
  w.write('a\tbb\nccc\td');
  assert.equal(w.flush(), 'a---bb\nccc-d');
  assert.equal(w.flush(), '');
  w.write('x\ty\n');
  assert.equal(w.flush(), 'x-y\n');
});

test('AlignRight, Debug, DiscardEmptyColumns, TabIndent', () => {
  assert.equal(tab('a\tbbb\tc\nxx\ty\tz\n', { flags: AlignRight }), '..a.bbbc\n.xx...yz\n');
  assert.equal(tab('a\tb\tc\n', { flags: Debug }), 'a.|b.|c\n');
  assert.equal(tab('a\v\vb\nc\v\vd\n', { flags: DiscardEmptyColumns }), 'a.b\nc.d\n');
  assert.equal(tab('a\v\vb\nc\v\vd\n'), 'a..b\nc..d\n');
  // Hard tabs keep an empty column even when discarding.
  assert.equal(tab('a\t\tb\n', { flags: DiscardEmptyColumns }), 'a..b\n');
  assert.equal(tab('\tx\ty\n', { flags: TabIndent, padchar: ' ', tabwidth: 4 }), '\tx y\n');
  // '\f' ends all columns like a flush.
  assert.equal(tab('aaaa\tb\fc\td\n'), 'aaaa.b\nc.d\n');
});

test('padding with tabs', () => {
  assert.equal(tab('a\tb\naaaaaaaaa\tc\n', { padchar: '\t', tabwidth: 8 }), 'a\t\tb\naaaaaaaaa\tc\n');
  // tab padding forces left alignment
  assert.equal(tab('a\tb\n', { padchar: '\t', tabwidth: 4, flags: AlignRight }), 'a\tb\n');
});

test('widths: runes like Go, or terminal columns like docker', () => {
  const text = '日本\tx\nab\ty\n';
  assert.equal(tab(text), '日本.x\nab.y\n');
  assert.equal(tab(text, { width: 'display' }), '日本.x\nab...y\n');
  assert.equal(tab('é\tx\nab\ty\n', { width: 'display' }), 'é..x\nab.y\n');
  assert.equal(tab('e\u0301\tx\nab\ty\n', { width: 'display' }), 'e\u0301..x\nab.y\n');
  assert.equal(tab('abc\tx\nb\ty\n', { width: () => 1 }), 'abc.x\nb.y\n');
});

test('display width', () => {
  assert.equal(displayWidth('abc'), 3);
  assert.equal(displayWidth('日本語'), 6);
  assert.equal(displayWidth('ｆｕｌｌ'), 8);
  assert.equal(displayWidth('한국어'), 6);
  assert.equal(displayWidth('e\u0301'), 1); // combining accent
  assert.equal(displayWidth('👨‍👩‍👧'), 2); // one grapheme cluster
  assert.equal(displayWidth('\u200bzero\u00ad'), 4);
  assert.equal(displayWidth('a\tb\x1b'), 2);
  assert.equal(runeWidth(0x3000), 2);
  assert.equal(runeWidth(0x303f), 1);
  assert.equal(runeWidth(0x1f600), 2);
  assert.equal(runeWidth(0xfe0f), 0);
});
