import { describe, expect, it } from 'vitest';
import { generateJobId } from './job-id.ts';

describe('generated job ids', () => {
  it('are random v4 UUIDs (122 random bits), never a counter that another process also counts', () => {
    const ids = Array.from({ length: 10_000 }, generateJobId);
    for (const id of ids.slice(0, 100))
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
