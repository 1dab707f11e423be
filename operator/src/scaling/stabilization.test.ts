import { describe, expect, it } from 'vitest';
import { rememberRecommendation, SCALE_DOWN_SPACING_SECONDS, spacedScaleDown, stabilize } from './stabilization.ts';

const at = (seconds: number, replicas: number) => ({ atMs: seconds * 1000, replicas });

describe('stabilize (HPA semantics)', () => {
  it('scales down no lower than the highest recommendation of the down window', () => {
    const history = [at(10, 8), at(40, 6), at(70, 4)];
    expect(
      stabilize({
        nowMs: 95_000,
        currentReplicas: 8,
        recommendation: 3,
        history,
        upWindowSeconds: 0,
        downWindowSeconds: 60,
      }),
    ).toBe(6);
    // As in the HPA, the window's start is exclusive.
    expect(
      stabilize({
        nowMs: 100_000,
        currentReplicas: 8,
        recommendation: 3,
        history,
        upWindowSeconds: 0,
        downWindowSeconds: 60,
      }),
    ).toBe(4);
  });

  it('scales down fully once the window holds only low recommendations', () => {
    const history = [at(10, 8), at(40, 6), at(70, 4)];
    expect(
      stabilize({
        nowMs: 200_000,
        currentReplicas: 8,
        recommendation: 3,
        history,
        upWindowSeconds: 0,
        downWindowSeconds: 60,
      }),
    ).toBe(3);
  });

  it('scales up no higher than the lowest recommendation of the up window', () => {
    const history = [at(90, 5), at(95, 12)];
    expect(
      stabilize({
        nowMs: 100_000,
        currentReplicas: 4,
        recommendation: 20,
        history,
        upWindowSeconds: 30,
        downWindowSeconds: 300,
      }),
    ).toBe(5);
  });

  it('scales up at once with a zero up window', () => {
    expect(
      stabilize({
        nowMs: 100_000,
        currentReplicas: 4,
        recommendation: 20,
        history: [at(99, 4)],
        upWindowSeconds: 0,
        downWindowSeconds: 300,
      }),
    ).toBe(20);
  });

  it('holds when the windows disagree with the direction', () => {
    const history = [at(90, 3), at(95, 9)];
    expect(
      stabilize({
        nowMs: 100_000,
        currentReplicas: 6,
        recommendation: 6,
        history,
        upWindowSeconds: 30,
        downWindowSeconds: 30,
      }),
    ).toBe(6);
  });
});

describe('rememberRecommendation', () => {
  it('keeps only what a window can still see', () => {
    const kept = rememberRecommendation([at(10, 1), at(95, 2)], at(100, 3), 30);
    expect(kept).toEqual([at(95, 2), at(100, 3)]);
  });
});

describe('spacedScaleDown', () => {
  it('lets a second scale-down wait SCALE_DOWN_SPACING_SECONDS after the first, unless the replicas at least halve', () => {
    expect(spacedScaleDown(10, 5, 8)).toBe(10);
    expect(spacedScaleDown(10, SCALE_DOWN_SPACING_SECONDS, 8)).toBe(8);
    expect(spacedScaleDown(10, 5, 5)).toBe(5);
    expect(spacedScaleDown(10, 5, 12)).toBe(12);
  });
});

describe("stabilize with the engine's headroom", () => {
  const fading = (keepRecommendation: number) =>
    stabilize({
      nowMs: 10_000,
      currentReplicas: 10,
      recommendation: 6,
      keepRecommendation,
      // 10 s ago the load needed 7 (and the headroom band would have kept 8 then).
      history: [{ atMs: 0, replicas: 7 }],
      upWindowSeconds: 0,
      downWindowSeconds: 60,
    });

  it("holds the window's highest past need, without the headroom those polls had", () => {
    expect(fading(6)).toBe(7);
  });

  it("keeps this poll's headroom when it is above the window's needs", () => {
    expect(fading(8)).toBe(8);
  });
});
