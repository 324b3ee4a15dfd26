import pkg from "../package.json" with { type: "json" };

/** The running software's version, as published in NodeInfo and the User-Agent of outbound requests. */
export const VERSION: string = pkg.version;
export const SOFTWARE_NAME = "polyphony";
