// Types of scripts/wasm-sources.mjs (for the TypeScript tests that import it).
export declare const WASM_SOURCE_DIRS: string[];
export declare const WASM_SOURCE_FILES: string[];
export declare const WASM_EXCLUDED_SOURCES: string[];
export declare const WASM_FILE: string;
export declare const WASM_HASH_FILE: string;
export declare function wasmSourceFiles(root: string): string[];
export declare function wasmSourcesHash(root: string): string;
export declare const THREADS_WASM_SOURCES: string[];
export declare const THREADS_WASM_FILE: string;
export declare const THREADS_WASM_HASH_FILE: string;
