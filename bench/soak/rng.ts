/** The soak's random choices: Math.random, or a seeded mulberry32 stream with --seed. */
let next: () => number = Math.random;

export function seedRandom(seed: number): void {
  let a = seed >>> 0;
  next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function rnd(): number {
  return next();
}
