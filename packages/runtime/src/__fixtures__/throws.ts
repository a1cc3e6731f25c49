// Throws from a known line, for the source-map test.
import type { NangoSync } from './nango.js';

function parseAmount(raw: string): number {
  const value = Number(raw);
  if (Number.isNaN(value)) {
    throw new Error(`Not a number: ${raw}`); // line 7
  }
  return value;
}

export default async function fetchData(nango: NangoSync): Promise<void> {
  await nango.log(parseAmount('12'));
  await nango.log(parseAmount('twelve')); // line 14
}
