import { Redis } from 'ioredis';
import { BENCH_FORMATS } from './seed-formats.ts';

// node seed-main.ts <format> <redis-url>: seeds one format's data in a process of its own, so
// that the benchmark's memory reading is the poller's, not the seeding's.
const [formatName, url] = process.argv.slice(2);
const format = BENCH_FORMATS.find((f) => f.name === formatName);
if (format === undefined || url === undefined)
  throw new Error(`usage: seed-main.ts <${BENCH_FORMATS.map((f) => f.name).join('|')}> <redis-url>`);
const redis = new Redis(url);
try {
  const [seconds] = await redis.time();
  await format.seed(redis, Number(seconds) * 1000);
} finally {
  redis.disconnect();
}
