import { readFileSync } from 'node:fs';

/** Reads a JSON fixture from ./fixtures; the caller states the shape it was written with. */
export function readFixture<Shape>(fileName: string): Shape {
  return JSON.parse(readFileSync(new URL(`./fixtures/${fileName}`, import.meta.url), 'utf8')) as Shape;
}
