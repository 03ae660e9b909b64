export declare const minimum: { readonly major: number; readonly minor: number };
export declare function tooOld(version: string): string | undefined;
