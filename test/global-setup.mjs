// Jest loads globalSetup outside its module registry (no transform, no ESM .ts): hand the
// TypeScript implementation to tsx.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { default: setup } = await tsImport('./global-setup-impl.ts', import.meta.url);
  await setup();
}
