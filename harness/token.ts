/** The admin token every stack the harness starts accepts: tests, the benchmark and fault scenarios. */
export const HARNESS_TOKEN = 'harness-token-0123456789abcdef';
