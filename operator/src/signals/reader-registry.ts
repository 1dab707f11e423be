import type { QueueFormat } from '../api/workerpool-schema.ts';
import { listReader } from './list-reader.ts';
import type { QueueFormatReader } from './queue-reader.ts';

/** The one place a queue format is bound to its reader (see ADDING-A-FORMAT.md). */
export function readerFor(format: QueueFormat): QueueFormatReader {
  switch (format) {
    case 'list':
      return listReader;
    default:
      throw new Error(`format ${format} not yet`);
  }
}
