import type { QueueFormat } from '../api/workerpool-schema.ts';
import { bullmqReader } from './bullmq-reader.ts';
import { listReader } from './list-reader.ts';
import { nativeReader } from './native-reader.ts';
import type { QueueFormatReader } from './queue-reader.ts';
import { sidekiqReader } from './sidekiq-reader.ts';
import { streamReader } from './stream-reader.ts';

/** The one place a queue format is bound to its reader (see ADDING-A-FORMAT.md). */
export function readerFor(format: QueueFormat): QueueFormatReader {
  switch (format) {
    case 'list':
      return listReader;
    case 'stream':
      return streamReader;
    case 'sidekiq':
      return sidekiqReader;
    case 'bullmq':
      return bullmqReader;
    case 'native':
      return nativeReader;
  }
}
