/** The version of this build (package.json's). */
export const VERSION = "0.1.0";
