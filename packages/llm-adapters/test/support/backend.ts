import { selectBackend } from '@recipe-kit/core';

/** Tests run on the same backend selection as users (wasm here), silently. */
export async function useTestBackend(): Promise<void> {
  await selectBackend({ log: null });
}
