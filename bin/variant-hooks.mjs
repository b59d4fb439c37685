// Module hooks for a user's variant file anywhere on disk (registered before tsx by every
// entry point): `import ... from 'tlbcheck'` resolves to this package's own sources, without
// a package.json or node_modules next to the file, and a .ts file outside any package is
// loaded as an ES module (Node would take it for CommonJS and refuse the import cycle).
const INDEX = new URL('../src/index.ts', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'tlbcheck') return { url: INDEX, shortCircuit: true };
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && /\.m?ts$/.test(new URL(url).pathname) && !url.includes('/node_modules/')) {
    return next(url, { ...context, format: 'module' });
  }
  return next(url, context);
}
