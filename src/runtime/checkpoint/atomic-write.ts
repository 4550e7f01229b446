// Kept for the modules that import it from here; the one implementation is src/io.ts.
export { writeFileAtomicSync as writeFileAtomic } from '../../io.ts';
