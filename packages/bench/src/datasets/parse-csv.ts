import path from 'node:path';
import { InvalidDatasetError } from '@recipe-kit/core';

/** One CSV record: its fields and the 1-based line where it starts (fields may span lines). */
export interface CsvRow {
  cells: string[];
  line: number;
}

/** Where an unquoted field ends: the next comma, CR or LF. */
const unquotedFieldEnd = /[,\r\n"]/g;

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = text.indexOf('\n', from); at >= 0 && at < to; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/**
 * An RFC 4180 CSV parser: comma-separated, fields optionally in double quotes, "" for a quote
 * inside a quoted field, and quoted fields may contain commas, CR and LF (MMLU questions and ANLI
 * contexts do). Records end at CRLF or LF (or a lone CR) outside quotes. Empty lines are skipped.
 * Strict about malformed quoting (a quote inside an unquoted field, text after a closing quote, an
 * unclosed quote), because silently repairing it shifts columns and turns into wrong answers later.
 * Scans with indexOf/regex rather than per character: ANLI's 4 MB of CSV parses in milliseconds.
 */
export function parseCsv(text: string, fileName: string): CsvRow[] {
  const rows: CsvRow[] = [];
  const name = path.basename(fileName);
  let line = 1;
  let i = 0;

  const fail = (problem: string, atLine: number): InvalidDatasetError =>
    new InvalidDatasetError(`${name} line ${atLine}: ${problem}`, `Fix the quoting on line ${atLine} of ${path.resolve(fileName)} (RFC 4180: quote a field containing commas, quotes or newlines, and double its inner quotes).`);

  while (i < text.length) {
    const rowLine = line;
    const startsQuoted = text[i] === '"';
    const cells: string[] = [];
    // One iteration per field; ends after the row's line break (or the end of the text).
    for (;;) {
      let field: string;
      if (text[i] === '"') {
        const parts: string[] = [];
        let from = i + 1;
        for (;;) {
          const quote = text.indexOf('"', from);
          if (quote < 0) throw fail('a quoted field is never closed (the file may be truncated)', line);
          parts.push(text.slice(from, quote));
          if (text[quote + 1] === '"') {
            parts.push('"');
            from = quote + 2;
            continue;
          }
          line += countNewlines(text, i, quote);
          i = quote + 1;
          break;
        }
        field = parts.join('');
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw fail(`text after the closing quote of a field ("${text.slice(i, i + 20)}")`, line);
        }
      } else {
        unquotedFieldEnd.lastIndex = i;
        const end = unquotedFieldEnd.exec(text)?.index ?? text.length;
        if (text[end] === '"') throw fail(`a quote inside the unquoted field "${text.slice(i, end + 1).slice(0, 40)}"`, line);
        field = text.slice(i, end);
        i = end;
      }
      cells.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      // A line break or the end of the text ends the row.
      if (text[i] === '\r') i += text[i + 1] === '\n' ? 2 : 1;
      else if (text[i] === '\n') i++;
      line++;
      break;
    }
    // A line with nothing on it is not a record with one empty field.
    if (!(cells.length === 1 && cells[0] === '' && !startsQuoted)) rows.push({ cells, line: rowLine });
  }
  return rows;
}

