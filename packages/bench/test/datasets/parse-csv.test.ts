import { describe, expect, it } from 'vitest';
import { InvalidDatasetError } from '@recipe-kit/core';
import { parseCsv } from '../../src/datasets/parse-csv.js';

const cells = (text: string) => parseCsv(text, 'x.csv').map((row) => row.cells);

describe('parseCsv (RFC 4180)', () => {
  it('splits plain fields and keeps empty ones', () => {
    expect(cells('a,b,c\n1,,3\n')).toEqual([['a', 'b', 'c'], ['1', '', '3']]);
    expect(cells('a,b,')).toEqual([['a', 'b', '']]);
  });

  it('reads quoted fields with commas, doubled quotes, CRLF and LF inside', () => {
    expect(cells('"a, b","say ""hi""","line1\r\nline2\nline3",x\r\n')).toEqual([['a, b', 'say "hi"', 'line1\r\nline2\nline3', 'x']]);
    expect(cells('"",""\n')).toEqual([['', '']]);
  });

  it('accepts CRLF, LF and a missing final newline; skips empty lines but not a lone quoted empty field', () => {
    expect(cells('a\r\nb\n\nc')).toEqual([['a'], ['b'], ['c']]);
    expect(cells('""\n')).toEqual([['']]);
  });

  it('reports the line where each record starts', () => {
    expect(parseCsv('a\n"b\nc",d\ne\n', 'x.csv').map((row) => row.line)).toEqual([1, 2, 4]);
  });

  it('rejects broken quoting with the file and line', () => {
    expect(() => parseCsv('a\n"b,c\n', 'x.csv')).toThrow(InvalidDatasetError);
    expect(() => parseCsv('a\n"b,c\n', 'x.csv')).toThrow('x.csv line 2: a quoted field is never closed');
    expect(() => parseCsv('a\n"b"c,d\n', 'x.csv')).toThrow('x.csv line 2: text after the closing quote');
    expect(() => parseCsv('a\nb"c,d\n', 'x.csv')).toThrow('x.csv line 2: a quote inside the unquoted field');
  });
});
