/**
 * Which FormSecurity code a bench measures. \`npm run bench\` (bench/run.ts) measures the
 * built packages, as users install them; a bench started directly with
 * \`node --import tsx\` measures the sources as tsx transforms them, unless
 * TSX_TSCONFIG_PATH names bench/tsconfig.json.
 */

/** The tsconfig under which @formsecurity/* resolve to their builds (dist). */
export const BUILT_PACKAGES_TSCONFIG = 'bench/tsconfig.json';

/** A line for a bench's header saying what it measures. */
export function packagesUnderTest(): string {
  const core = import.meta.resolve('@formsecurity/core');
  return core.includes('/dist/')
    ? 'measuring the built packages (dist)'
    : `measuring the sources through tsx (TSX_TSCONFIG_PATH=${BUILT_PACKAGES_TSCONFIG}, or npm run bench, measures the build)`;
}
