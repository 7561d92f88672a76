export default async function globalTeardown() {
  const started = globalThis.__pfaTestServices ?? [];
  for (const s of started.reverse()) await s.stop();
}
