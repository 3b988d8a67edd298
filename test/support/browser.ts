import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (installed by .ci/run and scripts/install/setup.sh), driven by playwright-core: no downloaded browser. */
const CHROMIUM = '/usr/bin/chromium';
/** Where browser tests leave their screenshots (git-ignored). */
export const SCREENSHOTS = new URL('../../test-results/screenshots/', import.meta.url);

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium (apt-get install chromium)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export const screenshotPath = (name: string) => new URL(name, SCREENSHOTS).pathname;
