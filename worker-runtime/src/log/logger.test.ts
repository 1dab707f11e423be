import { describe, expect, it } from 'vitest';
import { serializeError } from './logger.ts';

describe('logging errors', () => {
  it('drops the command of an ioredis error, whose arguments may hold the Redis password', () => {
    const err = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      command: { name: 'hello', args: ['3', 'AUTH', 'default', 'hunter2'] },
      previousErrors: [{ command: { args: ['AUTH', 'hunter2'] } }],
    });
    const serialized = serializeError(err);
    expect(JSON.stringify(serialized)).not.toContain('hunter2');
    expect(serialized).toMatchObject({ message: 'WRONGPASS invalid username-password pair', type: 'Error' });
  });
});
